import type { MetricSeries } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import type { MetricEvent } from '../incident/grouping.js';
import type { WatchedMetric } from '../policy/compile.js';
import type { CycleContext, PipelineDeps } from './context.js';

/** What is kept per metric between cycles: the detector's state and how far it has read. */
export interface MetricCursor {
  /** Time of the last datapoint slot fed to the detector. */
  lastT: number | null;
  /** Consecutive anomalous points so far (minimum-duration filter). */
  run: number;
  state: unknown;
}

const key = (id: string): string => `detector:${id}`;

/**
 * Reads new datapoints for every watched metric, feeds them to each metric's detector in time order
 * (a missing datapoint is fed as null, not zero) and returns one event per datapoint. Detector state
 * is stored so a restart continues the baseline. Metrics in `frozen` are scored but do not learn.
 */
export async function observe(deps: PipelineDeps, ctx: CycleContext, frozen: ReadonlySet<string> = new Set()): Promise<MetricEvent[]> {
  const { policy, store } = deps;
  const cursors = await store.getValues<MetricCursor>(policy.metrics.map((m) => key(m.id)));
  const starts = policy.metrics.map((m) => {
    const c = cursors.get(key(m.id));
    const period = m.periodSec * 1000;
    return c?.lastT != null ? c.lastT + period : Math.floor((ctx.now - policy.windowMs) / period) * period;
  });
  const start = Math.min(...starts);
  const series = await deps.metrics.fetch(policy.metrics, { start: start as EpochMs, end: ctx.now as EpochMs }, ctx.signal);
  const byId = new Map<string, MetricSeries>(series.map((s) => [s.id, s]));
  const events: MetricEvent[] = [];
  const save: Record<string, MetricCursor> = {};
  policy.metrics.forEach((m, i) => {
    const s = byId.get(m.id);
    if (!s || s.points.length === 0) return;
    const cursor = cursors.get(key(m.id)) ?? { lastT: null, run: 0, state: deps.detectorFor(m).init() };
    // While a metric is part of an open incident its baseline is frozen: scoring continues against the
    // pre-incident state, so a regression is never learned as the new normal.
    const learned = cursor.state;
    if (frozen.has(m.id)) cursor.state = structuredClone(learned);
    events.push(...feed(deps, m, cursor, s, starts[i] ?? start));
    if (frozen.has(m.id)) cursor.state = learned;
    save[key(m.id)] = cursor;
  });
  await store.setValues(save);
  return events;
}

function feed(deps: PipelineDeps, m: WatchedMetric, cursor: MetricCursor, s: MetricSeries, from: number): MetricEvent[] {
  const detector = deps.detectorFor(m);
  const period = m.periodSec * 1000;
  const values = new Map<number, number>(s.points.map((p) => [p.t, p.v]));
  const last = s.points[s.points.length - 1]?.t ?? from;
  const out: MetricEvent[] = [];
  for (let t = Math.ceil(from / period) * period; t <= last; t += period) {
    if (cursor.lastT !== null && t <= cursor.lastT) continue;
    const v = values.get(t);
    const verdict = detector.update(cursor.state, t as EpochMs, v ?? null);
    cursor.lastT = t;
    cursor.run = verdict.anomalous ? cursor.run + 1 : 0;
    if (v === undefined) continue;
    const anomalous = verdict.anomalous && cursor.run >= m.detector.minDuration;
    out.push({
      metricId: m.id,
      metricName: m.metricName,
      service: m.service,
      t: t as EpochMs,
      ...(anomalous ? { onsetT: (t - (cursor.run - 1) * period) as EpochMs } : {}),
      anomalous,
      direction: anomalous ? verdict.direction : null,
      score: verdict.score,
      value: v,
      expected: verdict.expected,
    });
  }
  return out;
}
