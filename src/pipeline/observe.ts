import type { Deployment, MetricSeries } from '../cloud/ports.js';
import type { PointVerdict } from '../detect/detector.js';
import { errorMessage } from '../core/errors.js';
import { epochMs, MINUTE } from '../core/time.js';
import type { MetricEvent } from '../incident/grouping.js';
import { windowBounds } from '../mute/mutes.js';
import type { WatchedMetric } from '../policy/compile.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { warmStart } from './warm-start.js';

/** What is kept per metric between cycles: the detector's state and how far it has read. */
export interface MetricCursor {
  /** Time of the last datapoint slot fed to the detector. */
  lastT: number | null;
  /** Consecutive anomalous points so far (minimum-duration filter). */
  run: number;
  state: unknown;
  /** Datapoints the baseline learned (absent in cursors stored before it existed: counted as warm). */
  learned?: number;
  /**
   * The scoring state of a freeze in progress (a deploy window, an open incident): a copy of `state` taken at the
   * freeze's first point that then runs on through the frozen points, so evidence builds up over them (short
   * averages, the half-hour mean) as it would outside a freeze. Dropped when the freeze ends: `state` never learns
   * a frozen point.
   */
  shadow?: unknown;
}

const key = (id: string): string => `detector:${id}`;

/**
 * How long after a deployment's deploy stage ends its service's metrics still do not teach the
 * baseline: long enough for the minimum duration, group_wait and the first proposal, so a regression
 * that starts at a deploy is still scored against the pre-deploy baseline when the incident opens.
 */
export const DEPLOY_SETTLE_MS = 15 * MINUTE;
/** Deployments that started this long before the oldest unread point can still have an open window. */
const DEPLOY_LOOKBACK_MS = 2 * 60 * MINUTE;

/** A stretch of time during which a service's metrics are scored but not learned, and why. */
export interface LearningFreeze {
  readonly service: string;
  readonly from: number;
  readonly to: number;
  /** e.g. "deploy 5a6b… of checkout-deploy", "maintenance edge-proxy-upgrade". */
  readonly why: string;
}

/**
 * The deployment windows of each service: from the deploy stage's start (else the execution's) to
 * `settleMs` after its end; a deployment still running is open until `now + settleMs`. Pure.
 */
export function deployFreezes(deployments: readonly Deployment[], pipelineServices: ReadonlyMap<string, readonly string[]>, now: number, settleMs = DEPLOY_SETTLE_MS): LearningFreeze[] {
  const out: LearningFreeze[] = [];
  for (const d of deployments) {
    const from = d.deployStartedAt ?? d.startedAt;
    const end = d.deployEndedAt ?? d.endedAt ?? now;
    for (const service of pipelineServices.get(d.pipeline) ?? []) out.push({ service, from, to: end + settleMs, why: `deploy ${d.id} of ${d.pipeline}` });
  }
  return out;
}

/** Why the point of `service` at `t` must not be learned, or null. */
export function freezeReason(freezes: readonly LearningFreeze[], service: string, t: number): string | null {
  return freezes.find((f) => f.service === service && t >= f.from && t < f.to)?.why ?? null;
}

/**
 * Reads new datapoints for every watched metric, feeds them to each metric's detector in time order
 * (a missing datapoint is fed as null, not zero) and returns one event per datapoint. Detector state
 * is stored so a restart continues the baseline. Points are scored but not learned (the detector runs
 * on a throwaway copy of its state) when:
 * - the metric is in `frozen` (part of an open incident: a regression is never learned as normal);
 * - they fall in a deployment window of the metric's service (deploy start to DEPLOY_SETTLE_MS after
 *   its end), so a regression that starts at a deploy is not absorbed before the incident opens;
 * - they fall in a maintenance window of the policy for the service (planned work is not normal);
 * the last two only once the baseline learned `warmup` points.
 * Metrics are observed in slices of OBSERVE_SLICE (each slice's cursors read, points fed and cursors
 * written before the next), so a cycle's working set does not grow with the number of metrics.
 * Deployments are read with one `list` call per cycle, for the pipelines of watched services, over the
 * stretch of time being read; a failed call only costs the deploy windows of this cycle.
 */
export async function observe(deps: PipelineDeps, ctx: CycleContext, frozen: ReadonlySet<string> = new Set()): Promise<MetricEvent[]> {
  const { policy } = deps;
  // The deployments are read once per cycle, from the earliest point a slice reads; again only when a
  // later slice reads further back (a metric whose cursor lags, e.g. after downtime).
  let readFrom = Infinity;
  let freezes: readonly LearningFreeze[] = [];
  const freezesFrom = async (start: number): Promise<readonly LearningFreeze[]> => {
    if (start < readFrom) {
      freezes = [...(await deploymentFreezes(deps, ctx, start)), ...maintenanceFreezes(deps)];
      readFrom = start;
    }
    return freezes;
  };
  const events: MetricEvent[] = [];
  for (let i = 0; i < policy.metrics.length; i += OBSERVE_SLICE) {
    for (const e of await observeSlice(deps, ctx, policy.metrics.slice(i, i + OBSERVE_SLICE), frozen, freezesFrom)) events.push(e);
  }
  return events;
}

/**
 * Metrics observed together: their cursors read, their points fetched and fed, their cursors written,
 * before the next slice starts. The cycle's working set (parsed detector states, series, the
 * detectors' scratch) is then one slice's, whatever the number of metrics — it dies young instead of
 * filling the heap for the length of a cycle. One GetMetricData call holds 500 queries, so a slice is
 * at most one call.
 */
export const OBSERVE_SLICE = 100;

async function observeSlice(deps: PipelineDeps, ctx: CycleContext, metrics: readonly WatchedMetric[], frozen: ReadonlySet<string>, freezesFrom: (start: number) => Promise<readonly LearningFreeze[]>): Promise<MetricEvent[]> {
  const { policy, store } = deps;
  // Warm start: metrics without a cursor first learn their history (see warm-start.ts).
  const cursors = await warmStart(deps, ctx, await store.getValues<MetricCursor>(metrics.map((m) => key(m.id))), key, metrics);
  const starts = metrics.map((m) => {
    const c = cursors.get(key(m.id));
    const period = m.periodSec * 1000;
    return c?.lastT != null ? c.lastT + period : Math.floor((ctx.now - policy.windowMs) / period) * period;
  });
  const start = Math.min(...starts);
  const series = await (deps.observeMetrics ?? deps.metrics).fetch(metrics, { start: epochMs(start), end: ctx.now }, ctx.signal);
  const freezes = await freezesFrom(start);
  const byId = new Map<string, MetricSeries>(series.map((s) => [s.id, s]));
  const events: MetricEvent[] = [];
  const save: Record<string, MetricCursor> = {};
  metrics.forEach((m, i) => {
    const s = byId.get(m.id);
    // No new point: the cursor is unchanged and is not written again.
    if (!s || s.points.length === 0) return;
    const cursor = cursors.get(key(m.id)) ?? { lastT: null, run: 0, state: deps.detectorFor(m).init(), learned: 0 };
    // Deploy and maintenance windows protect a warm baseline; a baseline still warming up (the first
    // cycle reads hours of history) learns through them, or it might never warm up.
    const why = (t: number): string | null =>
      frozen.has(m.id) ? 'open incident' : (cursor.learned ?? Infinity) < m.detector.warmup ? null : freezeReason(freezes, m.service, t);
    const before = cursor.lastT;
    for (const e of feed(deps, m, cursor, s, starts[i] ?? start, why)) events.push(e);
    if (cursor.lastT !== before) save[key(m.id)] = cursor;
  });
  if (Object.keys(save).length > 0) await store.setValues(save);
  return events;
}

async function deploymentFreezes(deps: PipelineDeps, ctx: CycleContext, start: number): Promise<LearningFreeze[]> {
  const pipelineServices = new Map<string, string[]>();
  const watched = new Set(deps.policy.metrics.map((m) => m.service));
  for (const [svc, s] of Object.entries(deps.policy.doc.services)) {
    if (!watched.has(svc)) continue;
    for (const p of s.pipelines) pipelineServices.set(p, [...(pipelineServices.get(p) ?? []), svc]);
  }
  if (pipelineServices.size === 0) return [];
  try {
    const range = { start: epochMs(start - DEPLOY_LOOKBACK_MS), end: ctx.now };
    const deployments = await deps.deployments.list([...pipelineServices.keys()], range, ctx.signal);
    return deployFreezes(deployments, pipelineServices, ctx.now);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    deps.logger.warn({ stage: 'observe', err: errorMessage(err) }, 'deployments unavailable; baselines learn through deploy windows this cycle');
    return [];
  }
}

function maintenanceFreezes(deps: PipelineDeps): LearningFreeze[] {
  const services = Object.keys(deps.policy.doc.services);
  return deps.policy.doc.maintenance.flatMap((w) => {
    const { start, end } = windowBounds(w);
    return (w.services.length > 0 ? w.services : services).map((service) => ({ service, from: start, to: end, why: `maintenance ${w.name}` }));
  });
}

function feed(deps: PipelineDeps, m: WatchedMetric, cursor: MetricCursor, s: MetricSeries, from: number, frozenWhy: (t: number) => string | null): MetricEvent[] {
  const detector = deps.detectorFor(m);
  const period = m.periodSec * 1000;
  const values = new Map<number, number>(s.points.map((p) => [p.t, p.v]));
  const band = m.detector.kind === 'cloudwatchBand' && s.band ? bandAt(s.band) : null;
  const last = s.points[s.points.length - 1]?.t ?? from;
  const out: MetricEvent[] = [];
  for (let t = Math.ceil(from / period) * period; t <= last; t += period) {
    if (cursor.lastT !== null && t <= cursor.lastT) continue;
    const v = values.get(t);
    // A frozen point is scored on the freeze's shadow state, which is dropped when the freeze ends: it teaches the
    // baseline nothing. (Each frozen point scored on a fresh copy of the baseline, as before, saw one anomalous point
    // at a time: a release's 70 % latency rise scored 0.16 for the whole deploy window, then 1 five minutes after it.)
    const why = frozenWhy(t);
    if (why === null) delete cursor.shadow;
    else cursor.shadow ??= structuredClone(cursor.state);
    const learned = detector.update(why === null ? cursor.state : cursor.shadow, epochMs(t), v ?? null);
    const verdict = band && v !== undefined ? (bandVerdictAt(band, t, v, m.detector.direction) ?? learned) : learned;
    cursor.lastT = t;
    cursor.run = verdict.anomalous ? cursor.run + 1 : 0;
    if (why === null && v !== undefined && cursor.learned !== undefined) cursor.learned++;
    if (v === undefined) continue;
    // The minimum duration is applied by grouping (`minPoints`), which also counts the points that stay
    // far from the old level after the onset: detectors that report a change once (and then suppress
    // repeats) would otherwise never last `minDuration` consecutive anomalous points.
    const anomalous = verdict.anomalous;
    out.push({
      metricId: m.id,
      metricName: m.metricName,
      service: m.service,
      t: epochMs(t),
      ...(anomalous ? { onsetT: epochMs(t - (cursor.run - 1) * period) } : {}),
      anomalous,
      minPoints: m.detector.minDuration,
      direction: anomalous ? verdict.direction : null,
      score: verdict.score,
      value: v,
      expected: verdict.expected,
      ...(why !== null ? { baselineFrozen: why } : {}),
    });
  }
  return out;
}

/** CloudWatch's band as lookups by timestamp. */
function bandAt(b: NonNullable<MetricSeries['band']>): { upper: Map<number, number>; lower: Map<number, number> } {
  return { upper: new Map(b.upper.map((p) => [p.t as number, p.v])), lower: new Map(b.lower.map((p) => [p.t as number, p.v])) };
}

/**
 * Detector kind 'cloudwatchBand': a point outside CloudWatch's ANOMALY_DETECTION_BAND (in an allowed
 * direction) is anomalous. Null where CloudWatch gave no band value: the adaptive detector judges it.
 */
export function bandVerdictAt(band: { upper: Map<number, number>; lower: Map<number, number> }, t: number, v: number, direction: 'up' | 'down' | 'both'): PointVerdict | null {
  const hi = band.upper.get(t);
  const lo = band.lower.get(t);
  if (hi === undefined || lo === undefined) return null;
  const up = v > hi && direction !== 'down';
  const down = v < lo && direction !== 'up';
  const anomalous = up || down;
  return { score: anomalous ? 1 : 0, anomalous, direction: up ? 'up' : down ? 'down' : null, expected: (hi + lo) / 2 };
}
