import type { EpochMs } from '../core/time.js';
import { stillDeviating, type MetricEvent } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import { announce } from './announce.js';
import { refreshChart } from './chart-refresh.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';

/** Health of an incident's metrics in this cycle's datapoints: null when none arrived. */
export function cycleHealth(inc: Incident, events: readonly MetricEvent[]): boolean | null {
  const since = inc.verification?.startedAt ?? 0;
  const relevant = events.filter((e) => e.t > since && inc.signals.some((s) => s.metricId === e.metricId));
  if (relevant.length === 0) return null;
  // Going back towards normal is recovery, so only the direction that broke counts against it.
  return !relevant.some((e) => inc.signals.some((s) => s.metricId === e.metricId && ((e.anomalous && s.direction === e.direction) || stillDeviating(s, e.value))));
}

/**
 * Verification's running counts, kept beside the incident between polls: a poll that only adds one to
 * a count is a heartbeat, not news (issue 15 bug 3, as for the signals). The incident is written, and
 * audited, when the health changes and when verification ends, with these counts.
 */
export interface VerifyProgress {
  /** The verification these counts belong to (a later one starts afresh). */
  readonly startedAt: EpochMs;
  readonly polls: number;
  readonly healthyPolls: number;
  readonly unhealthyPolls: number;
  readonly noDataPolls: number;
  /** Consecutive healthy polls: what resolution counts. */
  readonly streak: number;
  /** The last health seen; null before any datapoint arrived. */
  readonly health: 'healthy' | 'unhealthy' | null;
}

export const verifyProgressKey = (incidentId: string): string => `verify:${incidentId}`;

/** Counts before the first poll: an incident stored before progress was kept carries its healthy streak over. */
export function startProgress(v: NonNullable<Incident['verification']>): VerifyProgress {
  return { startedAt: v.startedAt, polls: 0, healthyPolls: 0, unhealthyPolls: 0, noDataPolls: 0, streak: v.healthyPolls, health: null };
}

/** One more poll with `health` (null: no datapoint this cycle, which changes nothing but the count). Pure. */
export function advance(p: VerifyProgress, health: boolean | null): VerifyProgress {
  if (health === null) return { ...p, polls: p.polls + 1, noDataPolls: p.noDataPolls + 1 };
  return health
    ? { ...p, polls: p.polls + 1, healthyPolls: p.healthyPolls + 1, streak: p.streak + 1, health: 'healthy' }
    : { ...p, polls: p.polls + 1, unhealthyPolls: p.unhealthyPolls + 1, streak: 0, health: 'unhealthy' };
}

const counts = (p: VerifyProgress): Record<string, number> => ({ polls: p.polls, healthyPolls: p.healthyPolls, unhealthyPolls: p.unhealthyPolls, noDataPolls: p.noDataPolls, streak: p.streak });

/** Resolves an incident once its metrics stayed healthy for the runbook's number of polls, in time. */
export async function verifyOne(deps: PipelineDeps, ctx: CycleContext, inc: Incident, events: readonly MetricEvent[]): Promise<void> {
  const v = inc.verification;
  if (inc.state !== 'verifying' || !v || !inc.runbook) return;
  const now = ctx.now;
  const key = verifyProgressKey(inc.id);
  const stored = await deps.store.getValue<VerifyProgress>(key);
  const before = stored && stored.startedAt === v.startedAt ? stored : startProgress(v);
  const p = advance(before, cycleHealth(inc, events));
  const ends = p.streak >= inc.runbook.verify.healthyPolls || now >= v.deadline;
  const changed = p.health !== before.health;
  // The chart follows verification (the recovery, or its absence), refreshed with each write it makes.
  const chart = ends || changed ? await refreshChart(deps, ctx, inc) : inc.chart;
  const record = (n: Incident): void => {
    if (n.verification) n.verification.healthyPolls = p.streak;
    n.chart = chart;
  };
  if (p.streak >= inc.runbook.verify.healthyPolls) {
    const next = await moveIncident(deps.store, inc, 'resolved', now, 'verifier', `recovered: ${p.streak} healthy polls after the runbook ran`, record, { verification: counts(p) });
    await deps.store.setValue(key, null);
    await announce(deps, ctx, next, 'final', 'executed and verified: resolved');
    return;
  }
  if (now >= v.deadline) {
    let next = await moveIncident(deps.store, inc, 'not_recovered', now, 'verifier', 'the service did not recover in time after the runbook ran', record, { verification: counts(p) });
    next = await moveIncident(deps.store, next, 'needs_human', now, 'verifier', 'the runbook ran but the service did not recover; a person must take over');
    await deps.store.setValue(key, null);
    await announce(deps, ctx, next, 'final', 'executed but NOT recovered: needs a person');
    return;
  }
  if (changed) await saveIncident(deps.store, inc, now, 'verifier', 'verify.poll', record, { health: p.health, healthyPolls: p.streak, ...counts(p) });
  await deps.store.setValue(key, p);
}
