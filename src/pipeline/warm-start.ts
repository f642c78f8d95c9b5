import type { MetricPoint, MetricSeries, TimeRange } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';
import { DAY, HOUR, MINUTE, type EpochMs } from '../core/time.js';
import type { WatchedMetric } from '../policy/compile.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { deployFreezes, freezeReason, type LearningFreeze, type MetricCursor } from './observe.js';

/**
 * Warm start: on first start, and for a metric added later, the daemon reads days of the metric's
 * history (CloudWatch GetMetricData on AWS, the scenario's `history` on the simulated cloud) and lets
 * its detector learn them before it scores anything, so the adaptive detector — not the cold-start
 * guard — judges the first live points. Metrics with no history at all keep today's cold start.
 */

/** How much history a warm start asks for: a week, so weekly as well as daily cycles are seen once. */
export const BACKFILL_MS = 7 * DAY;
/**
 * GetMetricData calls one warm start may make (all metrics together): about 100 s at the adapter's
 * default 10 calls per second, a fifth of the account's 50 TPS quota. The span shrinks to fit: 10,000
 * one-minute metrics get the full week (10 metrics of 10,080 points per call).
 */
export const BACKFILL_MAX_CALLS = 1000;
/** Below this much history the backfill is not worth its calls (the detector needs ~150 points). */
export const BACKFILL_MIN_MS = 6 * HOUR;
/** GetMetricData hard limits: datapoints and queries per call. */
const MAX_DATAPOINTS = 100_800;
const MAX_QUERIES = 500;
/** GetMetricData price: $0.01 per 1,000 metrics requested (each metric in each call counts). */
export const USD_PER_METRIC_REQUESTED = 0.01 / 1000;

/**
 * How long CloudWatch keeps data at a period: below a minute 3 hours, 1-minute 15 days, 5-minute
 * 63 days, 1-hour 455 days. Older data exists only at coarser periods, which the detector does not use.
 */
export function retentionMs(periodSec: number): number {
  if (periodSec < 60) return 3 * HOUR;
  if (periodSec < 300) return 15 * DAY;
  if (periodSec < 3600) return 63 * DAY;
  return 455 * DAY;
}

/** One GetMetricData call of a backfill: these metrics over this range. */
export interface BackfillCall<M = WatchedMetric> {
  readonly metrics: readonly M[];
  readonly range: TimeRange;
}

export interface BackfillPlan<M = WatchedMetric> {
  readonly calls: readonly BackfillCall<M>[];
  /** Metrics requested over all calls (the billed quantity). */
  readonly metricsRequested: number;
  readonly costUsd: number;
  /** History asked for, per period (seconds → ms), after retention and budget. */
  readonly spanMs: ReadonlyMap<number, number>;
}

/**
 * Plans the calls that read `metrics`' history up to `end`: at most `wantMs` back, within each period's
 * retention, every call within GetMetricData's limits (≤ 500 queries, ≤ 100,800 datapoints, so one page),
 * and at most `maxCalls` calls in all — the span is shortened (never below BACKFILL_MIN_MS) to fit.
 * Pure.
 */
export function planBackfill<M extends { readonly periodSec: number }>(metrics: readonly M[], end: number, wantMs = BACKFILL_MS, maxCalls = BACKFILL_MAX_CALLS): BackfillPlan<M> {
  const byPeriod = new Map<number, M[]>();
  for (const m of metrics) {
    const g = byPeriod.get(m.periodSec);
    if (g) g.push(m);
    else byPeriod.set(m.periodSec, [m]);
  }
  const build = (scale: number): { calls: BackfillCall<M>[]; spanMs: Map<number, number> } => {
    const calls: BackfillCall<M>[] = [];
    const spanMs = new Map<number, number>();
    for (const [periodSec, group] of byPeriod) {
      const period = periodSec * 1000;
      const kept = Math.min(wantMs, retentionMs(periodSec));
      const span = Math.max(Math.min(BACKFILL_MIN_MS, kept), Math.floor((kept * scale) / period) * period);
      spanMs.set(periodSec, span);
      const stop = Math.floor(end / period) * period;
      const start = stop - span;
      const points = span / period;
      if (points <= 0) continue;
      // Retention caps one metric's history at 21,600 points (1-minute, 15 days) or fewer: one call
      // always holds it, so calls split by metrics only.
      const perCall = Math.max(1, Math.min(MAX_QUERIES, Math.floor(MAX_DATAPOINTS / points)));
      for (let i = 0; i < group.length; i += perCall) calls.push({ metrics: group.slice(i, i + perCall), range: { start: start as EpochMs, end: stop as EpochMs } });
    }
    return { calls, spanMs };
  };
  let scale = 1;
  let plan = build(scale);
  while (plan.calls.length > maxCalls && scale > 0.01) {
    scale *= 0.8;
    plan = build(scale);
  }
  const metricsRequested = plan.calls.reduce((s, c) => s + c.metrics.length, 0);
  return { calls: plan.calls, metricsRequested, costUsd: metricsRequested * USD_PER_METRIC_REQUESTED, spanMs: plan.spanMs };
}

/** What a detector learned from one metric's history: the cursor observe continues from. */
export function learnHistory(deps: Pick<PipelineDeps, 'detectorFor'>, m: WatchedMetric, points: readonly MetricPoint[], freezes: readonly LearningFreeze[]): MetricCursor {
  const detector = deps.detectorFor(m);
  const cursor: MetricCursor = { lastT: null, run: 0, state: detector.init(), learned: 0 };
  if (points.length === 0) return cursor;
  const period = m.periodSec * 1000;
  const values = new Map<number, number>(points.map((p) => [p.t, p.v]));
  const first = points[0]?.t ?? 0;
  const last = points[points.length - 1]?.t ?? first;
  let learned = 0;
  for (let t = Math.ceil(first / period) * period; t <= last; t += period) {
    const v = values.get(t) ?? null;
    // Deploy windows teach nothing once the baseline is warm (as in observe): a regression that began
    // at a deploy in the history is not learned as normal.
    const frozen = learned >= m.detector.warmup && freezeReason(freezes, m.service, t) !== null;
    detector.update(frozen ? structuredClone(cursor.state) : cursor.state, t as EpochMs, v);
    if (!frozen && v !== null) learned++;
    cursor.lastT = t;
  }
  cursor.learned = learned;
  return cursor;
}

export interface WarmStartReport {
  readonly metrics: number;
  readonly withHistory: number;
  readonly calls: number;
  readonly costUsd: number;
}

/**
 * The cursors of `cursors` plus a learned one for every metric of `metrics` (a slice of the watched
 * metrics; all of them by default) that has none yet (first start,
 * a metric added to the policy). History ends where the first cycle's own read begins (`now − window`),
 * so observe's first read is unchanged. A metric without history gets a fresh cursor: the cold-start
 * guard covers it, and it is not backfilled again. A failed backfill read is logged and the cycle goes
 * on: those metrics start cold (observe's own read gives them a cursor), as before warm start existed.
 */
export async function warmStart(
  deps: PipelineDeps,
  ctx: CycleContext,
  cursors: ReadonlyMap<string, MetricCursor>,
  keyOf: (id: string) => string,
  metrics: readonly WatchedMetric[] = deps.policy.metrics,
): Promise<Map<string, MetricCursor>> {
  const out = new Map(cursors);
  const cold = metrics.filter((m) => !cursors.has(keyOf(m.id)) && m.detector.kind !== 'static' && m.detector.kind !== 'cloudwatchBand');
  if (cold.length === 0) return out;
  const end = ctx.now - deps.policy.windowMs;
  // A slice of the metrics gets its share of the call budget, so all slices together stay within it.
  const budget = Math.max(1, Math.floor((BACKFILL_MAX_CALLS * metrics.length) / Math.max(1, deps.policy.metrics.length)));
  const plan = planBackfill(cold, end, BACKFILL_MS, budget);
  const points = new Map<string, MetricPoint[]>();
  let failed = false;
  for (const call of plan.calls) {
    let series: MetricSeries[];
    try {
      series = await deps.metrics.fetch(call.metrics, call.range, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      deps.logger.warn({ stage: 'warm-start', err: errorMessage(err) }, 'history unavailable; these metrics start cold');
      failed = true;
      break;
    }
    for (const s of series) points.set(s.id, [...(points.get(s.id) ?? []), ...s.points]);
  }
  if (failed) return out;
  const earliest = Math.min(...plan.calls.map((c) => c.range.start));
  const freezes = await historyFreezes(deps, ctx, earliest, end);
  const save: Record<string, MetricCursor> = {};
  let withHistory = 0;
  for (const m of cold) {
    const ps = (points.get(m.id) ?? []).filter((p) => p.t < end).sort((a, b) => a.t - b.t);
    const cursor = learnHistory(deps, m, ps, freezes);
    if (ps.length > 0) withHistory++;
    save[keyOf(m.id)] = cursor;
    out.set(keyOf(m.id), cursor);
  }
  await deps.store.setValues(save);
  const report: WarmStartReport = { metrics: cold.length, withHistory, calls: plan.calls.length, costUsd: Math.round(plan.costUsd * 1e6) / 1e6 };
  deps.logger.info({ stage: 'warm-start', ...report }, 'learned metric history before scoring');
  return out;
}

/** Deploy windows over the history (deploy windows are excluded from learning, as in observe). */
async function historyFreezes(deps: PipelineDeps, ctx: CycleContext, start: number, end: number): Promise<LearningFreeze[]> {
  const pipelineServices = new Map<string, string[]>();
  for (const [svc, s] of Object.entries(deps.policy.doc.services)) for (const p of s.pipelines) pipelineServices.set(p, [...(pipelineServices.get(p) ?? []), svc]);
  if (pipelineServices.size === 0) return [];
  try {
    const deployments = await deps.deployments.list([...pipelineServices.keys()], { start: (start - 2 * HOUR) as EpochMs, end: (end + 15 * MINUTE) as EpochMs }, ctx.signal);
    return deployFreezes(deployments, pipelineServices, end);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    deps.logger.warn({ stage: 'warm-start', err: errorMessage(err) }, 'deployments unavailable; history learns through deploy windows');
    return [];
  }
}
