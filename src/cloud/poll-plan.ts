import type { EpochMs } from '../core/time.js';
import type { MetricQuery, MetricSeries, TimeRange } from './ports.js';

/**
 * Adaptive polling for GetMetricData — pure (no clock, no I/O): `now` and the state come in, a plan
 * and a new state go out.
 *
 * CloudWatch bills per metric *requested*, not per datapoint, so a quiet metric is asked for every
 * `quietEveryMs` (several datapoints per request) and a suspicious one every cycle (`hotEveryMs`).
 * Quiet metrics are spread over the cycles by a stable hash of their id, so each cycle asks for about
 * 1/slots of them and calls stay evenly spread within the TPS quota. All due metrics of a cycle share
 * one range and are packed into as few calls as possible (≤ 500 queries, ≤ 100,800 datapoints each);
 * an expression always travels with the metrics it references.
 *
 * Cycle:  plan = planPoll(metrics, state, now, settings)
 *         for each call: series = await source.fetch(call.queries, call.range, signal)
 *                        feed each series' points with t ≥ call.since[id] to its detector
 *                        state = recordFetch(state, call, series, settings)
 *         state = markSuspicious(state, idsThatLookOdd, now, settings)
 */

export interface PollSettings {
  /** Interval for quiet metrics. Must be a whole multiple of hotEveryMs. Default 5 min. */
  readonly quietEveryMs: number;
  /** Interval for suspicious metrics, and the cycle length. Default 1 min. */
  readonly hotEveryMs: number;
  /** A suspicious metric stays on the fast interval this long after it last looked odd. Default 15 min. */
  readonly hotHoldMs: number;
  /** History read the first time a metric is polled (detector warm-up). Default 1 h. */
  readonly initialLookbackMs: number;
  /** After an outage, at most this much history is caught up. Default 3 h. */
  readonly maxLookbackMs: number;
  /**
   * CloudWatch may publish a period's datapoint late. Missing datapoints younger than this are asked
   * for again next time instead of being committed as gaps. It does not delay datapoints that are
   * already there. Default 3 min.
   */
  readonly settleMs: number;
  readonly maxQueriesPerCall: number;
  readonly maxDatapointsPerCall: number;
}

export const DEFAULT_POLL_SETTINGS: PollSettings = {
  quietEveryMs: 5 * 60_000,
  hotEveryMs: 60_000,
  hotHoldMs: 15 * 60_000,
  initialLookbackMs: 60 * 60_000,
  maxLookbackMs: 3 * 60 * 60_000,
  settleMs: 3 * 60_000,
  maxQueriesPerCall: 500,
  maxDatapointsPerCall: 100_800,
};

/** Applies defaults and rejects contradictions, naming the field. */
export function compilePollSettings(input: Partial<PollSettings> = {}): PollSettings {
  const s = { ...DEFAULT_POLL_SETTINGS, ...input };
  const problems: string[] = [];
  if (!(s.hotEveryMs >= 1000)) problems.push(`hotEveryMs: expected ≥ 1000, got ${s.hotEveryMs}`);
  if (!(s.quietEveryMs >= s.hotEveryMs) || s.quietEveryMs % s.hotEveryMs !== 0) problems.push(`quietEveryMs: expected a whole multiple of hotEveryMs (${s.hotEveryMs}), got ${s.quietEveryMs}`);
  if (!(s.hotHoldMs >= 0)) problems.push(`hotHoldMs: expected ≥ 0, got ${s.hotHoldMs}`);
  if (!(s.maxLookbackMs >= s.initialLookbackMs && s.initialLookbackMs > 0)) problems.push(`maxLookbackMs: expected ≥ initialLookbackMs (${s.initialLookbackMs}) > 0, got ${s.maxLookbackMs}`);
  if (!(s.settleMs >= 0 && s.settleMs < s.maxLookbackMs)) problems.push(`settleMs: expected 0 ≤ settleMs < maxLookbackMs, got ${s.settleMs}`);
  if (!(Number.isInteger(s.maxQueriesPerCall) && s.maxQueriesPerCall >= 1 && s.maxQueriesPerCall <= 500)) problems.push(`maxQueriesPerCall: expected 1..500, got ${s.maxQueriesPerCall}`);
  if (!(s.maxDatapointsPerCall >= 1 && s.maxDatapointsPerCall <= 100_800)) problems.push(`maxDatapointsPerCall: expected 1..100800, got ${s.maxDatapointsPerCall}`);
  if (problems.length > 0) throw new RangeError(`invalid poll settings:\n  ${problems.join('\n  ')}`);
  return s;
}

/** Per metric, JSON-serializable so the store can keep it across restarts. */
export interface MetricPollState {
  /** Datapoints before this were delivered (or committed as gaps); the next read starts here. */
  readonly fetchedUntil?: EpochMs;
  /** On the fast interval until then. */
  readonly hotUntil?: EpochMs;
}

export type PollState = Readonly<Record<string, MetricPollState>>;

export interface PollCall {
  readonly range: TimeRange;
  readonly queries: readonly MetricQuery[];
  /** Per query id: points with t ≥ since are new to the detector (the shared range may start earlier). */
  readonly since: Readonly<Record<string, EpochMs>>;
}

export type PollReason = 'first' | 'hot' | 'slot' | 'catch-up' | 'dependency';

export interface PollPlan {
  readonly now: EpochMs;
  readonly calls: readonly PollCall[];
  /** Why each requested metric is in the plan: reasons are logged and counted. */
  readonly reasons: Readonly<Record<string, PollReason>>;
  /** Metrics requested this cycle (the billed unit). */
  readonly metricsRequested: number;
}

/** A stable hash of the id, so a metric keeps its slot across restarts. FNV-1a. */
export function phaseOf(id: string, slots: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % slots;
}

/** Lowercase identifiers in a metric-math expression (functions are uppercase; quoted text is skipped). */
export function expressionRefs(expression: string): string[] {
  const unquoted = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, ' ');
  return [...new Set(unquoted.match(/(?<![A-Za-z0-9_.])[a-z][a-zA-Z0-9_]*/g) ?? [])];
}

const floorTo = (t: number, step: number): number => Math.floor(t / step) * step;

/**
 * Which of the `slots` cycles of a quiet interval polls this metric. A metric whose period is a whole
 * multiple of the quiet interval is read in the cycle right after its bucket closes (a 5-minute metric
 * one minute after each 5-minute boundary), so a bad bucket is seen as soon as it can be; shorter-period
 * metrics are spread over the slots by a hash of their id.
 */
export function slotOf(id: string, periodMs: number, s: PollSettings): number {
  const slots = s.quietEveryMs / s.hotEveryMs;
  if (periodMs >= s.quietEveryMs && periodMs % s.quietEveryMs === 0) return 1 % slots;
  return phaseOf(id, slots);
}

/** Why (or whether) one metric is due now. */
export function dueReason(id: string, st: MetricPollState | undefined, now: EpochMs, s: PollSettings, periodMs = 0): PollReason | null {
  if (st?.fetchedUntil === undefined) return 'first';
  const lag = now - st.fetchedUntil;
  const hot = st.hotUntil !== undefined && st.hotUntil > now;
  if (hot) return lag >= s.hotEveryMs ? 'hot' : null;
  const slots = s.quietEveryMs / s.hotEveryMs;
  if (Math.floor(now / s.hotEveryMs) % slots === slotOf(id, periodMs, s) && lag >= s.hotEveryMs) return 'slot';
  // A missed slot (a skipped cycle, a restart): do not wait for the next one.
  if (lag > s.quietEveryMs + s.settleMs) return 'catch-up';
  return null;
}

/** Groups metrics that must be fetched together: expressions with what they reference. */
function units(metrics: readonly MetricQuery[]): MetricQuery[][] {
  const index = new Map(metrics.map((m, i) => [m.id, i]));
  const parent = metrics.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  metrics.forEach((m, i) => {
    if (m.expression === undefined) return;
    for (const ref of expressionRefs(m.expression)) {
      const j = index.get(ref);
      if (j !== undefined) parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, MetricQuery[]>();
  metrics.forEach((m, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(m);
    else groups.set(r, [m]);
  });
  return [...groups.values()];
}

/** Decides which metrics to ask CloudWatch for this cycle, over what range, in which calls. */
export function planPoll(metrics: readonly MetricQuery[], state: PollState, now: EpochMs, s: PollSettings): PollPlan {
  const reasons: Record<string, PollReason> = {};
  const due: { unit: MetricQuery[]; start: number }[] = [];
  for (const unit of units(metrics)) {
    const rs = unit.map((m) => dueReason(m.id, state[m.id], now, s, m.periodSec * 1000));
    if (rs.every((r) => r === null)) continue;
    unit.forEach((m, i) => (reasons[m.id] = rs[i] ?? 'dependency'));
    due.push({ unit, start: Math.min(...unit.map((m) => startFor(m, state[m.id], now, s))) });
  }
  // Oldest start first, so calls that need long ranges stay together and the rest stay short.
  due.sort((a, b) => a.start - b.start);
  const calls: PollCall[] = [];
  let cur: { unit: MetricQuery[]; start: number }[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const queries = cur.flatMap((u) => u.unit);
    const start = Math.min(...cur.map((u) => u.start));
    const end = callEnd(queries, now);
    const since: Record<string, EpochMs> = {};
    for (const q of queries) since[q.id] = Math.max(start, state[q.id]?.fetchedUntil ?? start) as EpochMs;
    calls.push({ range: { start: start as EpochMs, end: end as EpochMs }, queries, since });
    cur = [];
  };
  for (const d of due) {
    const next = [...cur, d];
    const queries = next.flatMap((u) => u.unit);
    const start = Math.min(...next.map((u) => u.start));
    const points = queries.reduce((n, q) => n + Math.ceil((now - start) / (q.periodSec * 1000)), 0);
    if (cur.length > 0 && (queries.length > s.maxQueriesPerCall || points > s.maxDatapointsPerCall)) flush();
    cur.push(d);
  }
  flush();
  return { now, calls, reasons, metricsRequested: calls.reduce((n, c) => n + c.queries.length, 0) };
}

function startFor(m: MetricQuery, st: MetricPollState | undefined, now: EpochMs, s: PollSettings): number {
  const p = m.periodSec * 1000;
  const from = st?.fetchedUntil ?? now - s.initialLookbackMs;
  return floorTo(Math.max(from, now - s.maxLookbackMs), p);
}

/** The call's end: now, down to the shortest period (the adapter drops buckets not yet complete). */
function callEnd(queries: readonly MetricQuery[], now: EpochMs): number {
  return floorTo(now, Math.min(...queries.map((q) => q.periodSec)) * 1000);
}

/**
 * Advances each fetched metric after a successful call. Complete periods up to the call's end are
 * committed, except a run of missing ones at the end younger than `settleMs`, which is read again
 * next time (CloudWatch can be late). A partial series commits only up to its last datapoint.
 */
export function recordFetch(state: PollState, call: PollCall, series: readonly MetricSeries[], s: PollSettings): PollState {
  const byId = new Map(series.map((x) => [x.id, x]));
  const next: Record<string, MetricPollState> = { ...state };
  for (const q of call.queries) {
    const p = q.periodSec * 1000;
    const end = floorTo(call.range.end, p);
    const got = byId.get(q.id);
    const last = got?.points.at(-1);
    const lastEnd = last !== undefined ? last.t + p : undefined;
    let until: number;
    if (got === undefined) continue; // not returned: leave it due
    if (got.partial === true) until = lastEnd ?? call.since[q.id] ?? call.range.start;
    else until = Math.max(Math.min(end, floorTo(end - s.settleMs, p)), Math.min(lastEnd ?? 0, end));
    const prev = state[q.id]?.fetchedUntil ?? 0;
    next[q.id] = { ...state[q.id], fetchedUntil: Math.max(prev, until) as EpochMs };
  }
  return next;
}

/** Puts metrics on the fast interval (they are due on the next cycle) until `now + hotHoldMs`. */
export function markSuspicious(state: PollState, ids: Iterable<string>, now: EpochMs, s: PollSettings): PollState {
  const next: Record<string, MetricPollState> = { ...state };
  for (const id of ids) next[id] = { ...state[id], hotUntil: (now + s.hotHoldMs) as EpochMs };
  return next;
}

/** Drops state of metrics no longer watched (after a policy reload). */
export function pruneState(state: PollState, metrics: readonly MetricQuery[]): PollState {
  const keep = new Set(metrics.map((m) => m.id));
  return Object.fromEntries(Object.entries(state).filter(([id]) => keep.has(id)));
}
