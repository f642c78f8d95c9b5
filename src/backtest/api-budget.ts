import type { MetricQuery } from '../cloud/ports.js';
import { DAY, type EpochMs } from '../core/time.js';

/** GetMetricData's hard limits per call (aws-brief §1). */
export const QUERIES_PER_CALL = 500;
export const DATAPOINTS_PER_CALL = 100_800;
/** $0.01 per 1,000 metrics requested; GetMetricData is never in the free tier. */
export const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
/** How long CloudWatch keeps data at each period (aws-brief §1, Retention). */
const RETENTION: readonly { readonly maxPeriodSec: number; readonly keptMs: number }[] = [
  { maxPeriodSec: 59, keptMs: 3 * 60 * 60 * 1000 },
  { maxPeriodSec: 299, keptMs: 15 * DAY },
  { maxPeriodSec: 3599, keptMs: 63 * DAY },
  { maxPeriodSec: Infinity, keptMs: 455 * DAY },
];

/** One GetMetricData call of the prefetch: which metrics, over which slice of time. */
export interface FetchCall {
  readonly queries: readonly MetricQuery[];
  readonly start: EpochMs;
  readonly end: EpochMs;
}

export interface ApiPlan {
  readonly calls: readonly FetchCall[];
  /** Metrics requested over all calls: what GetMetricData is billed on. */
  readonly metricsRequested: number;
  readonly usd: number;
  /** Metrics whose period CloudWatch no longer keeps back to `from` (their oldest stretch comes back empty). */
  readonly beyondRetention: readonly { readonly id: string; readonly periodSec: number; readonly keptDays: number }[];
}

/**
 * The calls that read `queries` over [from, to): metrics of one period go together, at most 500 to a call,
 * and each call's slice of time is as long as 100,800 datapoints allow. Pure: `now` only decides retention.
 *
 * @example planMetricFetch(metrics, from, to, now).calls.length // shown before the backtest starts
 */
export function planMetricFetch(queries: readonly MetricQuery[], from: EpochMs, to: EpochMs, now: EpochMs): ApiPlan {
  const byPeriod = new Map<number, MetricQuery[]>();
  for (const q of queries) byPeriod.set(q.periodSec, [...(byPeriod.get(q.periodSec) ?? []), q]);
  const calls: FetchCall[] = [];
  for (const [periodSec, group] of [...byPeriod].sort(([a], [b]) => a - b)) {
    const periodMs = periodSec * 1000;
    const start = Math.floor(from / periodMs) * periodMs;
    for (let i = 0; i < group.length; i += QUERIES_PER_CALL) {
      const batch = group.slice(i, i + QUERIES_PER_CALL);
      // Whole periods per metric that fit in one call, so no call is ever cut by the datapoint limit.
      const sliceMs = Math.max(1, Math.floor(DATAPOINTS_PER_CALL / batch.length)) * periodMs;
      for (let t = start; t < to; t += sliceMs) calls.push({ queries: batch, start: t as EpochMs, end: Math.min(to, t + sliceMs) as EpochMs });
    }
  }
  const metricsRequested = calls.reduce((n, c) => n + c.queries.length, 0);
  const beyondRetention = queries.flatMap((q) => {
    const keptMs = RETENTION.find((r) => q.periodSec <= r.maxPeriodSec)?.keptMs ?? 0;
    return now - from > keptMs ? [{ id: q.id, periodSec: q.periodSec, keptDays: Math.round((keptMs / DAY) * 10) / 10 }] : [];
  });
  return { calls, metricsRequested, usd: metricsRequested * USD_PER_METRIC_REQUESTED, beyondRetention };
}
