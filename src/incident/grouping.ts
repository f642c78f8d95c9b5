import type { EpochMs } from '../core/time.js';
import { STILL_DEVIATING_SHARE } from '../detect/alarm-confirm.js';
import type { Incident, Signal } from './incident.js';
import { OPEN_STATES, type IncidentState } from './lifecycle.js';

/** What the detector said about one metric's newest point. */
export interface MetricEvent {
  readonly metricId: string;
  readonly metricName: string;
  readonly service: string;
  readonly t: EpochMs;
  /** For an anomalous point: when its run of anomalous points began (minimum duration counts back). */
  readonly onsetT?: EpochMs;
  readonly anomalous: boolean;
  readonly direction: 'up' | 'down' | null;
  readonly score: number;
  readonly value: number;
  readonly expected: number;
  /** Why this point was scored but not learned by the baseline (open incident, deploy window, maintenance). */
  readonly baselineFrozen?: string;
  /** The metric's minimum anomaly duration in points (policy `minDuration`); never below the grouping's `minPoints`. */
  readonly minPoints?: number;
}

export interface GroupingConfig {
  /** A quiet open incident still takes new signals for this long after its last anomaly (group_interval). */
  readonly groupIntervalMs: number;
  /** A signal counts as cleared after this long without an anomalous point (hysteresis). */
  readonly clearAfterMs: number;
  /**
   * Points (anomalous, or still far from the old level) a new signal needs before it opens an incident:
   * a one-point blip never does (minimum duration). Default 2.
   */
  readonly minPoints?: number;
}

/** A signal seen but not yet confirmed by `minPoints` points: it opens nothing yet. */
export interface PendingSignal {
  readonly service: string;
  readonly signal: Signal;
  readonly points: number;
}

export interface GroupingResult {
  /** Incidents that changed (existing ones, mutated copies). */
  readonly updated: readonly Incident[];
  /** Signals that start a new incident, per service: the caller opens one per entry. */
  readonly newSignals: ReadonlyMap<string, readonly Signal[]>;
  /** Signals still waiting for confirmation: the caller keeps them for the next cycle. */
  readonly pending: readonly PendingSignal[];
}

/**
 * Incidents that ended without anything fixed (handed to a person, expired, rejected) still own their
 * problem while one of their signals is active: the same problem does not open a new incident every poll.
 */
export const ABSORBING_STATES: ReadonlySet<IncidentState> = new Set<IncidentState>(['needs_human', 'expired', 'rejected']);

/** The states whose incidents `groupEvents` should be given: open ones, and the absorbing ones. */
export const GROUPING_STATES: readonly IncidentState[] = [...OPEN_STATES, ...ABSORBING_STATES];

const lastActivity = (i: Incident): number => Math.max(i.openedAt, ...i.signals.map((s) => s.lastAnomalousAt));
const active = (i: Incident): boolean => i.signals.some((s) => s.clearedAt === null);

/** Whether an incident takes this cycle's signals for its service. */
function tracks(i: Incident): boolean {
  return OPEN_STATES.has(i.state) || (ABSORBING_STATES.has(i.state) && active(i));
}

/**
 * Groups anomalies into incidents, one per service at a time (Alertmanager's group_by service):
 * - an anomaly joins its service's incident if that incident saw an anomaly within group_interval or
 *   still has an active signal (later anomalies update the incident instead of opening another);
 * - a new signal opens an incident only once it lasted `minPoints` points (a flapping blip opens nothing);
 * - a healthy point clears a signal after clear_after without anomaly (hysteresis); a value still far
 *   from the pre-incident level keeps it (detectors report change, not state).
 * Pure: returns copies; never reads a clock.
 */
export function groupEvents(incidents: readonly Incident[], events: readonly MetricEvent[], cfg: GroupingConfig, pendingIn: readonly PendingSignal[] = []): GroupingResult {
  const minPoints = cfg.minPoints ?? 2;
  const byId = new Map<string, Incident>();
  const current = new Map<string, Incident>();
  for (const inc of incidents) {
    if (!tracks(inc)) continue;
    const prev = current.get(inc.service);
    if (!prev || inc.openedAt > prev.openedAt) current.set(inc.service, inc);
  }
  const pending = new Map<string, { service: string; signal: Signal; points: number }>(pendingIn.map((p) => [p.signal.metricId, { service: p.service, signal: structuredClone(p.signal), points: p.points }]));
  const fresh = new Map<string, Signal[]>();
  const touch = (inc: Incident): Incident => {
    let copy = byId.get(inc.id);
    if (!copy) {
      copy = structuredClone(inc);
      byId.set(inc.id, copy);
      current.set(inc.service, copy);
    }
    return copy;
  };
  const confirm = (service: string): void => {
    const list = fresh.get(service) ?? [];
    for (const [id, p] of pending) {
      if (p.service !== service) continue;
      if (!list.some((s) => s.metricId === id)) list.push(p.signal);
      pending.delete(id);
    }
    fresh.set(service, list);
  };

  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const inc = current.get(e.service);
    const joinable = inc !== undefined && (active(inc) || e.t - lastActivity(inc) <= cfg.groupIntervalMs);
    const sig = inc?.signals.find((s) => s.metricId === e.metricId && s.clearedAt === null);
    if (inc && sig && !e.anomalous && stillDeviating(sig, e.value)) {
      const s = touch(inc).signals.find((x) => x.metricId === e.metricId && x.clearedAt === null);
      if (s) s.lastAnomalousAt = e.t;
      continue;
    }
    if (e.anomalous && e.direction) {
      if (inc && joinable) {
        const copy = touch(inc);
        const s = copy.signals.find((x) => x.metricId === e.metricId && x.clearedAt === null);
        if (s) absorb(s, e);
        else copy.signals.push(newSignal(e));
        continue;
      }
      const started = fresh.get(e.service)?.find((s) => s.metricId === e.metricId);
      if (started) {
        absorb(started, e);
        continue;
      }
      const p = pending.get(e.metricId);
      if (p) {
        absorb(p.signal, e);
        p.points++;
      } else pending.set(e.metricId, { service: e.service, signal: newSignal(e), points: 1 });
      if ((pending.get(e.metricId)?.points ?? 0) >= Math.max(minPoints, e.minPoints ?? 0) || fresh.has(e.service)) confirm(e.service);
      continue;
    }
    const p = pending.get(e.metricId);
    if (p) {
      if (stillDeviating(p.signal, e.value)) {
        p.signal.lastAnomalousAt = e.t;
        if (++p.points >= Math.max(minPoints, e.minPoints ?? 0)) confirm(e.service);
      } else pending.delete(e.metricId);
      continue;
    }
    if (inc && sig && e.t - sig.lastAnomalousAt >= cfg.clearAfterMs) {
      const s = touch(inc).signals.find((x) => x.metricId === e.metricId && x.clearedAt === null);
      if (s) s.clearedAt = e.t;
    }
  }
  // A pending signal whose metric went quiet (a gap) for clear_after is forgotten.
  const last = events.reduce((m, e) => Math.max(m, e.t), 0);
  const keep = [...pending.values()].filter((p) => last - p.signal.lastAnomalousAt < cfg.clearAfterMs);
  return { updated: [...byId.values()], newSignals: fresh, pending: keep };
}

/**
 * A further anomalous point of the signal's metric keeps it going; it becomes the peak only when it deviates the
 * same way (a metric watched both ways that swings below expected must not show as an up signal's "peak" under
 * its expected value, nor move the excursion stillDeviating measures against).
 */
function absorb(s: Signal, e: MetricEvent): void {
  s.lastAnomalousAt = e.t;
  if (e.score > s.peakScore && (e.direction ?? s.direction) === s.direction) Object.assign(s, { peakScore: e.score, peakValue: e.value, expected: e.expected });
}

function newSignal(e: MetricEvent): Signal {
  return {
    metricId: e.metricId,
    metricName: e.metricName,
    direction: e.direction ?? 'up',
    startedAt: e.onsetT ?? e.t,
    lastAnomalousAt: e.t,
    clearedAt: null,
    peakScore: e.score,
    peakValue: e.value,
    expected: e.expected,
  };
}

/**
 * Whether a value is still away from where the metric was before the signal: more than 30 % of the
 * peak excursion remains (STILL_DEVIATING_SHARE; the detector confirms its own alarms by the same rule, alarm-confirm.ts). Unknown (false) when the detector had no expected value yet.
 */
export function stillDeviating(sig: Signal, value: number): boolean {
  const excursion = sig.peakValue - sig.expected;
  if (!Number.isFinite(excursion) || excursion === 0) return false;
  return (value - sig.expected) / excursion > STILL_DEVIATING_SHARE;
}

/** All signals cleared: the anomaly went away by itself. */
export function allCleared(inc: Incident): boolean {
  return inc.signals.length > 0 && inc.signals.every((s) => s.clearedAt !== null);
}

/**
 * Ends the signals still open on an incident that is over and owns nothing any more (resolved,
 * withdrawn, superseded): grouping no longer tracks it, so without this they would read "ongoing"
 * for ever. Absorbing states keep theirs: grouping clears them when the metric recovers. Mutates `inc`.
 */
export function endOpenSignals(inc: Incident, at: EpochMs): void {
  if (ABSORBING_STATES.has(inc.state)) return;
  for (const s of inc.signals) if (s.clearedAt === null) s.clearedAt = Math.max(at, s.lastAnomalousAt) as EpochMs;
}

/**
 * Whether two versions of an incident's signals differ in more than liveness: a signal added, cleared,
 * or a new peak. A change in `lastAnomalousAt` alone is a heartbeat, not news.
 */
export function signalsChanged(before: readonly Signal[], after: readonly Signal[]): boolean {
  if (before.length !== after.length) return true;
  return after.some((a, n) => {
    const b = before[n];
    return !b || b.metricId !== a.metricId || b.clearedAt !== a.clearedAt || b.peakScore !== a.peakScore || b.startedAt !== a.startedAt;
  });
}
