import { earliest, type EpochMs } from '../core/time.js';
import { groupEvents, GROUPING_STATES, signalsChanged, type MetricEvent, type PendingSignal } from '../incident/grouping.js';
import type { Incident, Signal } from '../incident/incident.js';
import { describeMute, groupMutes, muteRecords } from '../mute/mutes.js';
import { muteSources } from '../mute/silences.js';
import { watchLogs } from './log-watch.js';
import { saveIncident } from './transitions.js';
import type { CycleContext, PipelineDeps } from './context.js';

/** A readable, sortable id: service and onset minute, e.g. checkout-20261102-0814. */
export function incidentId(service: string, onset: number, taken: (id: string) => boolean): string {
  const d = new Date(onset).toISOString();
  const base = `${service}-${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 16).replace(':', '')}`;
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}

export function newIncident(id: string, service: string, signals: readonly Signal[], now: EpochMs): Incident {
  return {
    id,
    service,
    state: 'detected',
    version: 1,
    openedAt: now,
    updatedAt: now,
    onsetAt: earliest(...signals.map((s) => s.startedAt)),
    signals: [...signals],
    correlation: null,
    evidence: null,
    runbook: null,
    approval: null,
    steps: [],
    mutes: [],
    reason: `${signals.map((s) => `${s.metricName} went ${s.direction}`).join(', ')}`,
    chart: null,
    verification: null,
  };
}

/** Signals waiting for their minimum duration, kept between cycles. */
const PENDING_KEY = 'grouping:pending';

/**
 * The newest anomalous time of each open signal, per incident and metric, when it moved on since the
 * incident was last written. A signal that merely stays anomalous is a heartbeat: it is kept here (so
 * clearing still waits clear_after from the real last anomaly) instead of writing the incident and an
 * audit record every poll (issue 15 bug 3). The incident is written, and audited, when its signals change.
 */
const LIVENESS_KEY = 'grouping:liveness';
type Liveness = Record<string, Record<string, number>>;

/** The stored incidents with the liveness kept beside them laid over their open signals. */
function withLiveness(open: readonly Incident[], live: Liveness): Incident[] {
  return open.map((inc) => {
    const l = live[inc.id];
    if (!l) return inc;
    const copy = structuredClone(inc);
    for (const s of copy.signals) {
      const t = l[s.metricId];
      if (s.clearedAt === null && t !== undefined && t > s.lastAnomalousAt) s.lastAnomalousAt = t as EpochMs;
    }
    return copy;
  });
}

/** Groups this cycle's events into incidents: updates open ones, opens new ones. */
export async function openIncidents(deps: PipelineDeps, ctx: CycleContext, events: readonly MetricEvent[]): Promise<void> {
  const { store, policy } = deps;
  // Open incidents, and ended ones that still own an active problem (see ABSORBING_STATES).
  const stored = await store.listIncidents({ states: GROUPING_STATES, limit: 500 }, { signal: ctx.signal });
  const liveIn = (await store.getValue<Liveness>(LIVENESS_KEY)) ?? {};
  const open = withLiveness(stored, liveIn);
  const pending = (await store.getValue<PendingSignal[]>(PENDING_KEY)) ?? [];
  // History read on the first cycle (or after a long outage) teaches the detectors but opens nothing:
  // an anomaly older than group_interval is no longer news.
  // New error templates in the logs are signals too (log-watch.ts), grouped beside the metric events.
  const fresh = [...events, ...(await watchLogs(deps, ctx))].filter((e) => !e.anomalous || e.t >= ctx.now - policy.groupIntervalMs);
  const result = groupEvents(open, fresh, { groupIntervalMs: policy.groupIntervalMs, clearAfterMs: policy.clearAfterMs }, pending);
  const now = ctx.now;
  // Liveness of incidents still grouped carries over; a written incident holds its own.
  const liveOut: Liveness = Object.fromEntries(Object.entries(liveIn).filter(([id]) => stored.some((i) => i.id === id)));
  for (const updated of result.updated) {
    const before = open.find((i) => i.id === updated.id);
    const base = stored.find((i) => i.id === updated.id);
    if (!before || !base) continue;
    if (!signalsChanged(base.signals, updated.signals)) {
      liveOut[updated.id] = Object.fromEntries(updated.signals.filter((s) => s.clearedAt === null).map((s) => [s.metricId, s.lastAnomalousAt]));
      continue;
    }
    await saveIncident(store, base, now, 'watcher', 'incident.signals', (next) => {
      next.signals = updated.signals;
      next.onsetAt = earliest(...updated.signals.map((s) => s.startedAt));
    }, { signals: updated.signals.map((s) => ({ metric: s.metricId, cleared: s.clearedAt !== null, ...(s.clearedAt !== null ? { clearedAt: s.clearedAt } : {}), peak: s.peakValue })) });
    delete liveOut[updated.id];
  }
  await store.setValues({ [PENDING_KEY]: result.pending, [LIVENESS_KEY]: liveOut });
  if (result.newSignals.size === 0) return;
  // Ids taken are looked up one by one (a few reads per new incident), not by listing the whole history.
  const ids = new Set<string>();
  const sources = await muteSources(store, policy);
  for (const [service, signals] of result.newSignals) {
    const onset = Math.min(...signals.map((s) => s.startedAt));
    let id = incidentId(service, onset, (x) => ids.has(x));
    while (await store.getIncident(id, { signal: ctx.signal })) {
      ids.add(id);
      id = incidentId(service, onset, (x) => ids.has(x));
    }
    ids.add(id);
    const inc = newIncident(id, service, signals, now);
    // A muted anomaly is still recorded (Alertmanager's silenced alerts): the incident opens with the
    // mutes that muted it, and proposeAll holds it back — no proposal, no notification — while they last.
    inc.mutes = muteRecords(groupMutes(sources, service, signals, now), now);
    const mutedBy = inc.mutes.map((m) => ({ id: m.id, kind: m.kind, by: m.by, reason: m.reason, until: m.until, metrics: m.metrics }));
    await store.createIncident(inc, {
      at: now,
      incidentId: id,
      kind: 'incident.opened',
      actor: 'watcher',
      data: { service, signals: signals.map((s) => ({ metric: s.metricId, direction: s.direction, startedAt: s.startedAt, value: s.peakValue, expected: s.expected })), ...(mutedBy.length > 0 ? { mutedBy } : {}) },
    });
    deps.logger.info({ incidentId: id, stage: 'group', service, ...(mutedBy.length > 0 ? { muted: inc.mutes.map(describeMute) } : {}) }, mutedBy.length > 0 ? 'incident opened, muted' : 'incident opened');
  }
}
