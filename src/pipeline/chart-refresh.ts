import type { MetricSeries } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';
import { addMs, MINUTE, type EpochMs } from '../core/time.js';
import type { ChartSeries, Incident, IncidentChart } from '../incident/incident.js';
import type { WatchedMetric } from '../policy/compile.js';
import type { CycleContext, PipelineDeps } from './context.js';

/** Points kept per metric on an incident's chart: older ones are thinned, never the latest. */
export const CHART_MAX_POINTS = 240;
/** How long before the onset the chart begins. */
export const CHART_LEAD_MS = 45 * MINUTE;
/**
 * How often the chart of an incident awaiting approval is read again. Each refresh is one stored and
 * audited write, so once a cycle would bring back the heartbeat rows issue 15 bug 3 removed; every five
 * minutes keeps the approver's view at most that stale (twelve rows over a one-hour TTL).
 */
export const CHART_AWAIT_REFRESH_MS = 5 * MINUTE;

type Point = { t: EpochMs; v: number };
type BandPoint = { t: EpochMs; lo: number; hi: number };

/**
 * At most `max` points: the newest half as they are, the older ones thinned to the lowest and the
 * highest point of equal buckets, so a spike survives the thinning. Pure.
 */
export function boundPoints(points: readonly Point[], max = CHART_MAX_POINTS): Point[] {
  if (points.length <= max) return [...points];
  const recent = Math.floor(max / 2);
  const old = points.slice(0, points.length - recent);
  const buckets = Math.max(1, Math.floor((max - recent) / 2));
  const size = Math.ceil(old.length / buckets);
  const thinned: Point[] = [];
  for (let i = 0; i < old.length; i += size) {
    const b = old.slice(i, i + size);
    const lo = b.reduce((m, p) => (p.v < m.v ? p : m));
    const hi = b.reduce((m, p) => (p.v > m.v ? p : m));
    thinned.push(...(lo === hi ? [lo] : lo.t < hi.t ? [lo, hi] : [hi, lo]));
  }
  return [...thinned, ...points.slice(points.length - recent)];
}

/** Stored points before `from`, then what was read from `from` on (a re-read replaces revised points). Pure. */
export function mergePoints<P extends { t: EpochMs }>(stored: readonly P[], fresh: readonly P[], from: EpochMs): P[] {
  return [...stored.filter((p) => p.t < from), ...fresh.filter((p) => p.t >= from)].sort((a, b) => a.t - b.t);
}

/** The incident's signal metrics known to the policy, the strongest signal first. */
export function signalMetrics(deps: PipelineDeps, inc: Incident): WatchedMetric[] {
  const ids = [...new Set([...inc.signals].sort((a, b) => b.peakScore - a.peakScore).map((s) => s.metricId))];
  return ids.flatMap((id) => deps.policy.metrics.filter((m) => m.id === id));
}

function bandOf(s: MetricSeries | undefined): BandPoint[] | undefined {
  if (!s?.band) return undefined;
  const lower = new Map(s.band.lower.map((p) => [p.t, p.v]));
  const out = s.band.upper.flatMap((u) => {
    const lo = lower.get(u.t);
    return lo === undefined ? [] : [{ t: u.t, lo, hi: u.v }];
  });
  return out.length ? out : undefined;
}

function seriesFor(m: WatchedMetric, read: MetricSeries | undefined, stored: ChartSeries | undefined, from: EpochMs): ChartSeries {
  const points = boundPoints(mergePoints(stored?.points ?? [], (read?.points ?? []).map((p) => ({ t: p.t, v: p.v })), from));
  const kept = new Set(points.map((p) => p.t));
  const band = mergePoints(stored?.band ?? [], bandOf(read) ?? [], from).filter((b) => kept.has(b.t));
  const th = m.detector.kind === 'static' ? m.detector.threshold : undefined;
  return {
    metricId: m.id,
    metricName: m.metricName,
    ...(m.unit !== undefined ? { unit: m.unit } : {}),
    stat: m.stat,
    periodSec: m.periodSec,
    points,
    ...(band.length ? { band } : {}),
    ...(th ? { bounds: { ...(th.above !== undefined ? { above: th.above } : {}), ...(th.below !== undefined ? { below: th.below } : {}) } } : {}),
  };
}

/**
 * Reads every signal metric of the incident from `start` to now and returns the chart series, merged
 * into `stored` (the points already on the chart) and bounded to CHART_MAX_POINTS each.
 */
export async function readChartSeries(deps: PipelineDeps, ctx: CycleContext, inc: Incident, start: EpochMs, stored: readonly ChartSeries[] = []): Promise<ChartSeries[]> {
  const metrics = signalMetrics(deps, inc);
  if (metrics.length === 0) return [];
  // Each metric is read again from its last stored point (it may have been partial); a new one from `start`.
  const fromOf = (m: WatchedMetric): EpochMs => stored.find((s) => s.metricId === m.id)?.points.at(-1)?.t ?? start;
  const from = metrics.reduce((t, m) => Math.min(t, fromOf(m)), Number.POSITIVE_INFINITY) as EpochMs;
  const read = await deps.metrics.fetch(metrics, { start: from, end: ctx.now }, ctx.signal);
  return metrics.map((m) => seriesFor(m, read.find((s) => s.id === m.id), stored.find((s) => s.metricId === m.id), fromOf(m)));
}

/** Where a chart built now begins: CHART_LEAD_MS before the onset, or where the drafted chart began. */
export function chartStart(inc: Incident): EpochMs {
  return inc.chart?.points[0]?.t ?? inc.chart?.series?.[0]?.points[0]?.t ?? addMs(inc.onsetAt, -CHART_LEAD_MS);
}

/**
 * Whether the chart of an awaiting incident is due to be read again at `now`: CHART_AWAIT_REFRESH_MS
 * after its last read, and never before the slowest signal metric can have a new point. Pure.
 */
export function chartRefreshDue(deps: PipelineDeps, inc: Incident, now: EpochMs): boolean {
  if (!inc.chart) return false;
  const last = inc.chart.refreshedAt ?? inc.approval?.requestedAt ?? inc.updatedAt;
  const slowest = signalMetrics(deps, inc).reduce((ms, m) => Math.max(ms, m.periodSec * 1000), 0);
  return now - last >= Math.max(CHART_AWAIT_REFRESH_MS, slowest);
}

/**
 * The incident's chart with the latest points of every signal metric appended (while awaiting approval,
 * during verification, at the end):
 * the page shows the recovery, not the snapshot taken at drafting. A failed read keeps the chart as it
 * was (logged): the chart is evidence, never a reason to hold verification back.
 */
export async function refreshChart(deps: PipelineDeps, ctx: CycleContext, inc: Incident, stage: 'verify' | 'decide' = 'verify'): Promise<IncidentChart | null> {
  try {
    const series = await readChartSeries(deps, ctx, inc, chartStart(inc), inc.chart?.series ?? []);
    const main = series[0];
    if (!main) return inc.chart;
    const base: IncidentChart = inc.chart ?? { metricId: main.metricId, metricName: main.metricName, points: main.points, deployments: [] };
    return { ...base, series, refreshedAt: ctx.now };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    deps.logger.warn({ incidentId: inc.id, stage, err: errorMessage(err) }, 'chart not refreshed');
    return inc.chart;
  }
}
