/**
 * Replays labeled series through the daemon's own detection path — the detector the daemon builds
 * (src/pipeline/detector-factory.ts), its minimum duration and grouping (src/incident/grouping.ts) with the policy
 * defaults — and counts the incidents that would have been opened outside the labeled windows.
 *
 * One series is one metric of its own service (grouping never merges series), one point is one poll cycle. Nobody
 * approves anything: an open incident freezes its metric's learning (as the watcher does) until its signals clear
 * (withdrawn) or its approval request expires (ttl after opening; the expired incident still owns its active signals,
 * as ABSORBING_STATES says, but no longer freezes learning). Pure: no clock, no I/O.
 *
 * Counting starts after NAB's probationary period (the first 15 % of a file, at most 750 points): the detector learns
 * there, as the daemon learns on backfilled history before it scores; an incident whose onset falls in it is not
 * counted, and neither is its time.
 */
import type { EpochMs } from '../core/time.js';
import { parseDuration } from '../core/time.js';
import { allCleared, groupEvents, type GroupingConfig, type MetricEvent, type PendingSignal } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import { newIncident } from '../pipeline/open-incidents.js';
import { detectorFor } from '../pipeline/detector-factory.js';
import type { WatchedMetric } from '../policy/compile.js';
import { policySchema, type DetectorConfig } from '../policy/schema.js';
import { probationaryLength, type Window } from './weights.js';

export interface ReplayConfig {
  readonly detector: DetectorConfig;
  readonly grouping: GroupingConfig;
  /** How long an unapproved incident stays open (the approval ttl). */
  readonly ttlMs: number;
}

/** The policy defaults (an empty `detection:` and `grouping:` block, the default approval ttl). */
export function defaultReplayConfig(): ReplayConfig {
  const g = policySchema.shape.grouping.parse(undefined);
  return {
    detector: policySchema.shape.detection.parse(undefined),
    grouping: { groupIntervalMs: parseDuration(g.groupInterval), clearAfterMs: parseDuration(g.clearAfter) },
    ttlMs: parseDuration(policySchema.shape.approval.shape.ttl.parse(undefined)),
  };
}

export interface ReplayedIncident {
  /** Onset (first anomalous point of the signal) and the last anomalous point seen. */
  readonly onset: number;
  readonly last: number;
  /** Whether [onset, last] overlaps a labeled window. */
  readonly inWindow: boolean;
  /** Side of the expected value of the first signal. */
  readonly direction: 'up' | 'down';
  /**
   * Points of [onset, last] the detector itself called anomalous. 1 means the minimum duration was met by points that
   * were only still deviating (grouping's stillDeviating: 30 % of the peak excursion left), not by a second alarm.
   */
  readonly anomalousPoints: number;
  /** Value and expected value at the most anomalous point of the first signal. */
  readonly peakValue: number;
  readonly expected: number;
  /** The peak lies beyond every value the series had before the onset (a new high or low). */
  readonly newRecord: boolean;
}

export interface SeriesReplay {
  readonly incidents: readonly ReplayedIncident[];
  /** Windows (ending after the probationary period) that an incident overlapped. */
  readonly windowsHit: number;
  readonly windows: number;
  /** Time covered by the series after the probationary period, outside its labeled windows (ms). */
  readonly unlabeledMs: number;
}

const overlaps = (a0: number, a1: number, w: Window): boolean => a0 <= w.end && a1 >= w.start;

/** Replays one series (timestamps ms, NaN = missing) with period `periodMs`. */
export function replaySeries(timestamps: ArrayLike<number>, values: ArrayLike<number>, periodMs: number, windows: readonly Window[], cfg: ReplayConfig = defaultReplayConfig()): SeriesReplay {
  const m: WatchedMetric = {
    id: 'm',
    service: 's',
    namespace: 'replay',
    metricName: 'm',
    dimensions: {},
    stat: 'Average',
    periodSec: periodMs / 1000,
    detector: cfg.detector,
  };
  const det = detectorFor(m);
  const state = det.init();
  let shadow: typeof state | null = null;
  let incidents: Incident[] = [];
  const openedAt = new Map<string, number>();
  const closed: Incident[] = [];
  let pending: readonly PendingSignal[] = [];
  let run = 0;
  const alarms: number[] = [];
  const seen: { t: number; lo: number; hi: number }[] = []; // the range of the values so far, at each new record
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const t = timestamps[i] as number;
    const v = values[i] as number;
    if (!Number.isNaN(v) && (v < lo || v > hi)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      seen.push({ t, lo, hi });
    }
    // Expire unapproved incidents: they stop freezing learning, and keep their active signals.
    for (const inc of incidents) if (inc.state === 'detected' && t - (openedAt.get(inc.id) ?? t) >= cfg.ttlMs) inc.state = 'expired';
    const frozen = incidents.some((inc) => inc.state === 'detected' && inc.signals.some((s) => s.clearedAt === null));
    // As the daemon (observe.ts): frozen points run on one shadow of the state, dropped when the freeze ends.
    if (!frozen) shadow = null;
    else shadow ??= structuredClone(state);
    const verdict = det.update(shadow ?? state, t as EpochMs, Number.isNaN(v) ? null : v);
    run = verdict.anomalous ? run + 1 : 0;
    if (verdict.anomalous) alarms.push(t);
    if (Number.isNaN(v)) continue;
    const e: MetricEvent = {
      metricId: m.id,
      metricName: m.metricName,
      service: m.service,
      t: t as EpochMs,
      ...(verdict.anomalous ? { onsetT: (t - (run - 1) * periodMs) as EpochMs } : {}),
      anomalous: verdict.anomalous,
      minPoints: m.detector.minDuration,
      direction: verdict.anomalous ? verdict.direction : null,
      score: verdict.score,
      value: v,
      expected: verdict.expected,
    };
    const r = groupEvents(incidents, [e], cfg.grouping, pending);
    pending = r.pending;
    for (const u of r.updated) incidents = incidents.map((inc) => (inc.id === u.id ? u : inc));
    for (const [service, signals] of r.newSignals) {
      const inc = newIncident(`i${closed.length + incidents.length}`, service, signals, t as EpochMs);
      openedAt.set(inc.id, t);
      incidents.push(inc);
    }
    // Incidents whose signals all cleared are over (withdrawn, or an expired one that no longer owns anything).
    for (const inc of incidents.filter((x) => allCleared(x))) closed.push(inc);
    incidents = incidents.filter((x) => !allCleared(x));
  }
  const counted = (timestamps[Math.min(probationaryLength(values.length), values.length - 1)] as number) ?? -Infinity;
  const all = [...closed, ...incidents].filter((inc) => Math.min(...inc.signals.map((s) => s.startedAt)) >= counted).map((inc): ReplayedIncident => {
    const onset = Math.min(...inc.signals.map((s) => s.startedAt));
    const last = Math.max(...inc.signals.map((s) => s.lastAnomalousAt));
    const first = inc.signals[0] as Incident['signals'][number];
    const before = rangeBefore(seen, onset);
    return {
      onset,
      last,
      inWindow: windows.some((w) => overlaps(onset, last, w)),
      direction: first.direction,
      anomalousPoints: alarms.filter((a) => a >= onset && a <= last).length,
      peakValue: first.peakValue,
      expected: first.expected,
      newRecord: first.peakValue > before.hi || first.peakValue < before.lo,
    };
  });
  const scored = windows.filter((w) => w.end >= counted);
  const windowsHit = scored.filter((w) => all.some((x) => overlaps(x.onset, x.last, w))).length;
  const first = counted;
  const end = (timestamps[timestamps.length - 1] as number) + periodMs;
  let labeled = 0;
  for (const w of windows) labeled += Math.max(0, Math.min(end, w.end) - Math.max(first, w.start));
  return { incidents: all, windowsHit, windows: scored.length, unlabeledMs: Math.max(0, end - first - labeled) };
}

/** Range of the values strictly before time t, from the records kept while replaying (lo > hi when none). */
function rangeBefore(seen: readonly { t: number; lo: number; hi: number }[], t: number): { lo: number; hi: number } {
  let r = { lo: Infinity, hi: -Infinity };
  for (const x of seen) {
    if (x.t >= t) break;
    r = x;
  }
  return r;
}

/** What a replayed incident looked like, in a few words: how its minimum duration was met, and whether it set a record. */
export function describeIncident(x: ReplayedIncident): string {
  const parts = [x.anomalousPoints <= 1 ? 'one alarm, confirmed by still-deviating points' : `${x.anomalousPoints} alarms`];
  if (x.newRecord) parts.push(x.direction === 'up' ? 'new high' : 'new low');
  return parts.join('; ');
}

export interface FalseAlarmSummary {
  readonly false_incidents: number;
  readonly metric_days: number;
  readonly false_incidents_per_1000_metric_days: number;
  readonly labeled_window_recall: number;
}

/** Sums per-series replays: false incidents per 1,000 metric-days outside labeled windows, and window recall. */
export function summarizeReplays(rs: readonly SeriesReplay[]): FalseAlarmSummary {
  const fp = rs.reduce((n, r) => n + r.incidents.filter((x) => !x.inWindow).length, 0);
  const days = rs.reduce((n, r) => n + r.unlabeledMs, 0) / 86_400_000;
  const hit = rs.reduce((n, r) => n + r.windowsHit, 0);
  const wins = rs.reduce((n, r) => n + r.windows, 0);
  return {
    false_incidents: fp,
    metric_days: days,
    false_incidents_per_1000_metric_days: days > 0 ? (1000 * fp) / days : 0,
    labeled_window_recall: wins > 0 ? hit / wins : NaN,
  };
}

export interface MetricFalseAlarms {
  readonly key: string;
  readonly false_incidents: number;
  /** False incidents after the first on the same metric (the same metric paging again). */
  readonly reopened: number;
  /** Median time from onset to the last anomalous point (minutes). */
  readonly median_minutes: number;
  /** By duration: one point (a spike), under an hour (a burst), an hour or more (a shift, trend or grown peak). */
  readonly kinds: { readonly point: number; readonly burst: number; readonly long: number };
}

/** The metrics with most false incidents, most first (ties by key), at most `top` of them. */
export function falseAlarmBreakdown(rs: readonly { readonly key: string; readonly periodMs: number; readonly r: SeriesReplay }[], top = 5): MetricFalseAlarms[] {
  const rows: MetricFalseAlarms[] = [];
  for (const { key, periodMs, r } of rs) {
    const fp = r.incidents.filter((x) => !x.inWindow);
    if (fp.length === 0) continue;
    const mins = fp.map((x) => (x.last - x.onset) / 60_000).sort((a, b) => a - b);
    const mid = mins.length >> 1;
    const median = mins.length % 2 === 1 ? (mins[mid] as number) : ((mins[mid - 1] as number) + (mins[mid] as number)) / 2;
    const kinds = { point: 0, burst: 0, long: 0 };
    for (const x of fp) {
      const d = x.last - x.onset;
      if (d < periodMs) kinds.point++;
      else if (d < 3_600_000) kinds.burst++;
      else kinds.long++;
    }
    rows.push({ key, false_incidents: fp.length, reopened: fp.length - 1, median_minutes: Math.round(median), kinds });
  }
  return rows.sort((a, b) => b.false_incidents - a.false_incidents || (a.key < b.key ? -1 : 1)).slice(0, top);
}
