import type { Deployment, DeploymentSource, LogQuery, LogRecord, LogSource, MetricPoint, MetricQuery, MetricSeries, MetricSource, TimeRange } from '../cloud/ports.js';
import { PermanentError } from '../core/errors.js';
import type { EpochMs } from '../core/time.js';
import type { FetchCall } from './api-budget.js';

/**
 * Reads every planned call once, in order, and keeps the points: the replay then serves each cycle's
 * reads from memory, so a week of one-minute cycles costs the planned calls and not one call per cycle.
 * `onCall` reports progress after each call. The signal aborts between and inside calls.
 */
export async function prefetchMetrics(source: MetricSource, calls: readonly FetchCall[], signal: AbortSignal, onCall: (done: number, total: number) => void = () => undefined): Promise<Map<string, MetricPoint[]>> {
  const points = new Map<string, Map<number, number>>();
  let done = 0;
  for (const call of calls) {
    signal.throwIfAborted();
    const series = await source.fetch(call.queries, { start: call.start, end: call.end }, signal);
    for (const s of series) {
      const m = points.get(s.id) ?? new Map<number, number>();
      // A point is kept only inside the call's own slice, so slices that CloudWatch rounds never double up.
      for (const p of s.points) if (p.t >= call.start && p.t < call.end) m.set(p.t, p.v);
      points.set(s.id, m);
    }
    onCall(++done, calls.length);
  }
  return new Map([...points].map(([id, m]) => [id, [...m].sort(([a], [b]) => a - b).map(([t, v]) => ({ t: t as EpochMs, v }))]));
}

/** A MetricSource over recorded points: what the account showed, as of the replay's clock. */
export class RecordedMetrics implements MetricSource {
  constructor(
    private readonly points: ReadonlyMap<string, readonly MetricPoint[]>,
    /** The replay's "now": nothing after it is shown, as a live read would not have shown it. */
    private readonly now: () => number,
  ) {}

  fetch(queries: readonly MetricQuery[], range: TimeRange): Promise<MetricSeries[]> {
    const end = Math.min(range.end, this.now() + 1);
    return Promise.resolve(
      queries.map((q) => ({ id: q.id, points: slice(this.points.get(q.id) ?? [], range.start, end) })),
    );
  }
}

/** Points with start <= t < end, by binary search (the replay reads a few minutes of days, many times). */
function slice(points: readonly MetricPoint[], start: number, end: number): MetricPoint[] {
  const lower = (x: number): number => {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((points[mid]?.t ?? Infinity) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return points.slice(lower(start), lower(end));
}

/**
 * Deployments read once for the whole replay; each cycle sees the executions that had started by its
 * `now`, as they stood then (an execution still running at `now` shows as InProgress, without its end).
 */
export class RecordedDeployments implements DeploymentSource {
  constructor(
    private readonly all: readonly Deployment[],
    private readonly now: () => number,
  ) {}

  list(pipelines: readonly string[], range: TimeRange): Promise<Deployment[]> {
    const now = this.now();
    const wanted = new Set(pipelines);
    const out = this.all
      .filter((d) => wanted.has(d.pipeline) && d.startedAt <= Math.min(now, range.end) && (d.endedAt ?? now) >= range.start)
      .map((d) => asOf(d, now));
    return Promise.resolve(out);
  }
}

function asOf(d: Deployment, now: number): Deployment {
  if (d.endedAt === undefined || d.endedAt <= now) return d;
  const { endedAt: _e, deployEndedAt: _de, ...running } = d;
  return { ...running, status: 'InProgress', ...(d.deployEndedAt !== undefined && d.deployEndedAt <= now ? { deployEndedAt: d.deployEndedAt } : {}) };
}

/**
 * Log reads during a replay go to the account (Logs Insights has no cheap bulk read), at most `maxQueries`
 * of them; past that a read fails as a permanent port error, which the evidence stage records as a gap.
 */
export class BudgetedLogs implements LogSource {
  used = 0;
  constructor(
    private readonly inner: LogSource,
    readonly maxQueries: number,
  ) {}

  fetch(q: LogQuery, signal: AbortSignal): Promise<LogRecord[]> {
    if (this.used >= this.maxQueries) return Promise.reject(new PermanentError(`backtest log budget spent (${this.maxQueries} queries)`));
    this.used++;
    return this.inner.fetch(q, signal);
  }
}
