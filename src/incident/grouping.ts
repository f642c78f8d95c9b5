import type { EpochMs } from '../core/time.js';
import type { Incident, Signal } from './incident.js';
import { OPEN_STATES } from './lifecycle.js';

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
}

export interface GroupingConfig {
  /** A quiet open incident still takes new signals for this long after its last anomaly. */
  readonly groupIntervalMs: number;
  /** A signal counts as cleared after this long without an anomalous point (hysteresis). */
  readonly clearAfterMs: number;
}

export interface GroupingResult {
  /** Incidents that changed (existing ones, mutated copies). */
  readonly updated: readonly Incident[];
  /** Signals that start a new incident, per service: the caller opens one per entry. */
  readonly newSignals: ReadonlyMap<string, readonly Signal[]>;
}

const lastActivity = (i: Incident): number => Math.max(i.openedAt, ...i.signals.map((s) => s.lastAnomalousAt));

/**
 * Groups anomalies into incidents, one per service at a time (Alertmanager's group_by service):
 * an anomaly joins the open incident of its service if that incident saw an anomaly within
 * groupInterval; otherwise it starts a new one. Healthy points clear signals after clearAfter.
 * Pure: returns copies; never reads a clock.
 */
export function groupEvents(open: readonly Incident[], events: readonly MetricEvent[], cfg: GroupingConfig): GroupingResult {
  const byId = new Map<string, Incident>();
  const current = new Map<string, Incident>();
  for (const inc of open) {
    if (!OPEN_STATES.has(inc.state)) continue;
    const prev = current.get(inc.service);
    if (!prev || inc.openedAt > prev.openedAt) current.set(inc.service, inc);
  }
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

  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const inc = current.get(e.service);
    const open = inc?.signals.find((s) => s.metricId === e.metricId && s.clearedAt === null);
    if (inc && open && !e.anomalous && stillDeviating(open, e.value)) {
      // Detectors report change, not state: a value still far from the pre-incident level keeps the signal.
      const copy = touch(inc);
      const sig = copy.signals.find((s) => s.metricId === e.metricId && s.clearedAt === null);
      if (sig) sig.lastAnomalousAt = e.t;
      continue;
    }
    if (e.anomalous && e.direction) {
      if (inc && e.t - lastActivity(inc) <= cfg.groupIntervalMs) {
        const copy = touch(inc);
        const sig = copy.signals.find((s) => s.metricId === e.metricId && s.clearedAt === null);
        if (sig) {
          sig.lastAnomalousAt = e.t;
          if (e.score > sig.peakScore) Object.assign(sig, { peakScore: e.score, peakValue: e.value, expected: e.expected });
        } else {
          copy.signals.push(newSignal(e));
        }
        continue;
      }
      const list = fresh.get(e.service) ?? [];
      const sig = list.find((s) => s.metricId === e.metricId);
      if (sig) {
        sig.lastAnomalousAt = e.t;
        if (e.score > sig.peakScore) Object.assign(sig, { peakScore: e.score, peakValue: e.value, expected: e.expected });
      } else list.push(newSignal(e));
      fresh.set(e.service, list);
    } else if (inc) {
      const sig = inc.signals.find((s) => s.metricId === e.metricId && s.clearedAt === null);
      if (sig && e.t - sig.lastAnomalousAt >= cfg.clearAfterMs) {
        const copy = touch(inc);
        const s = copy.signals.find((x) => x.metricId === e.metricId && x.clearedAt === null);
        if (s) s.clearedAt = e.t;
      }
    }
  }
  return { updated: [...byId.values()], newSignals: fresh };
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
 * peak excursion remains. Unknown (false) when the detector had no expected value yet.
 */
export function stillDeviating(sig: Signal, value: number): boolean {
  const excursion = sig.peakValue - sig.expected;
  if (!Number.isFinite(excursion) || excursion === 0) return false;
  return (value - sig.expected) / excursion > 0.3;
}

/** All signals cleared: the anomaly went away by itself. */
export function allCleared(inc: Incident): boolean {
  return inc.signals.length > 0 && inc.signals.every((s) => s.clearedAt !== null);
}
