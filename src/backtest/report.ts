import type { MetricPoint } from '../cloud/ports.js';
import { DAY, type EpochMs } from '../core/time.js';
import type { StreamingDetector } from '../detect/detector.js';
import type { Incident } from '../incident/incident.js';
import type { WatchedMetric } from '../policy/compile.js';

/** One incident the replay would have opened, as a reviewer reads it. */
export interface BacktestIncident {
  readonly id: string;
  readonly service: string;
  readonly onsetAt: EpochMs;
  readonly metrics: readonly string[];
  /** Where the replay left it: awaiting approval/expired (a proposal was made), withdrawn (cleared by itself), … */
  readonly state: string;
  readonly proposed: boolean;
  readonly suspect: { readonly pipeline: string; readonly executionId: string; readonly revision: string | null; readonly score: number; readonly reasons: readonly string[] } | null;
  readonly verdict: string;
  readonly runbook: string | null;
}

/** Per metric: how often it would have paged, and how often that looked like noise. */
export interface MetricNoise {
  readonly id: string;
  readonly service: string;
  readonly incidents: number;
  /** Incidents that cleared by themselves before anyone decided (withdrawn): most likely noise. */
  readonly selfCleared: number;
  /** Incidents with no suspect deployment. */
  readonly unexplained: number;
  readonly incidentsPerMetricDay: number;
  /** Self-cleared plus unexplained incidents per metric-day: the false-alarm estimate. */
  readonly likelyFalsePerMetricDay: number;
}

/** A change to the policy that would have quieted a metric, measured by replaying that metric alone. */
export interface Suggestion {
  readonly metricId: string;
  /** The policy key and value, e.g. `metrics[checkout-5xx].detector.sensitivity: 0.35`. */
  readonly change: string;
  readonly episodesBefore: number;
  readonly episodesAfter: number;
  /** Of this metric's incidents that had a suspect deployment, how many the change still detects. */
  readonly explainedKept: number;
  readonly explainedTotal: number;
}

export interface BacktestReport {
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly metricDays: number;
  readonly incidents: readonly BacktestIncident[];
  readonly noise: readonly MetricNoise[];
  readonly suggestions: readonly Suggestion[];
  /** Incidents per 1,000 metric-days that looked like noise (self-cleared or unexplained). */
  readonly likelyFalsePer1000MetricDays: number;
}

const WITHDRAWN = new Set(['withdrawn']);

/** What the replay's incidents say, as a reviewer reads them. Pure. */
export function summarizeIncidents(incidents: readonly Incident[]): BacktestIncident[] {
  return [...incidents]
    .sort((a, b) => a.onsetAt - b.onsetAt)
    .map((i) => {
      const s = i.correlation?.suspect ?? null;
      return {
        id: i.id,
        service: i.service,
        onsetAt: i.onsetAt,
        metrics: [...new Set(i.signals.map((x) => x.metricId))],
        state: i.state,
        proposed: i.approval !== null,
        suspect: s
          ? { pipeline: s.deployment.pipeline, executionId: s.deployment.id, revision: s.deployment.revisionId ?? null, score: s.score, reasons: s.reasons }
          : null,
        verdict: i.correlation?.verdict ?? i.reason,
        runbook: i.runbook?.title ?? null,
      };
    });
}

/** Per-metric incident counts and false-alarm estimates over the replayed stretch. Pure. */
export function metricNoise(metrics: readonly WatchedMetric[], incidents: readonly BacktestIncident[], days: number): MetricNoise[] {
  return metrics
    .map((m) => {
      const mine = incidents.filter((i) => i.metrics.includes(m.id));
      const selfCleared = mine.filter((i) => WITHDRAWN.has(i.state)).length;
      const unexplained = mine.filter((i) => i.suspect === null && !WITHDRAWN.has(i.state)).length;
      return {
        id: m.id,
        service: m.service,
        incidents: mine.length,
        selfCleared,
        unexplained,
        incidentsPerMetricDay: days > 0 ? mine.length / days : 0,
        likelyFalsePerMetricDay: days > 0 ? (selfCleared + unexplained) / days : 0,
      };
    })
    .sort((a, b) => b.likelyFalsePerMetricDay - a.likelyFalsePerMetricDay || b.incidents - a.incidents);
}

/**
 * Episodes a detector opens on one series: runs of at least `minPoints` anomalous points, a new episode only
 * after `gapMs` without one (grouping's group interval). Pure; returns each episode's first anomalous time.
 */
export function episodes(detector: StreamingDetector, points: readonly MetricPoint[], minPoints: number, gapMs: number): EpochMs[] {
  const state = detector.init();
  const out: EpochMs[] = [];
  let run = 0;
  let runStart = 0;
  let lastEpisodeAt = -Infinity;
  for (const p of points) {
    const v = detector.update(state, p.t, p.v);
    if (!v.anomalous) {
      run = 0;
      continue;
    }
    if (run === 0) runStart = p.t;
    run++;
    if (run === minPoints) {
      if (runStart - lastEpisodeAt > gapMs) out.push(runStart as EpochMs);
      lastEpisodeAt = p.t;
    } else if (run > minPoints) lastEpisodeAt = p.t;
  }
  return out;
}

/** The alternatives tried for a noisy metric: less sensitive, then a longer minimum duration. */
export function alternatives(m: WatchedMetric): { readonly change: string; readonly metric: WatchedMetric }[] {
  const d = m.detector;
  const out: { change: string; metric: WatchedMetric }[] = [];
  for (const step of [0.15, 0.3]) {
    const s = Math.round(Math.max(0, d.sensitivity - step) * 100) / 100;
    if (s < d.sensitivity) out.push({ change: `metrics[${m.id}].detector.sensitivity: ${s}`, metric: { ...m, detector: { ...d, sensitivity: s } } });
  }
  const longer = Math.max(d.minDuration + 2, d.minDuration * 2);
  out.push({ change: `metrics[${m.id}].detector.minDuration: ${longer}`, metric: { ...m, detector: { ...d, minDuration: longer } } });
  return out;
}

/**
 * For the noisiest metrics, replays each alternative on the metric's recorded points and keeps those that
 * open fewer episodes while still catching every incident of that metric that had a suspect deployment
 * (an episode within `matchMs` of its onset). Pure given the detector factory.
 */
export function suggestQuieter(
  noisy: readonly MetricNoise[],
  metrics: readonly WatchedMetric[],
  points: ReadonlyMap<string, readonly MetricPoint[]>,
  incidents: readonly BacktestIncident[],
  detectorFor: (m: WatchedMetric) => StreamingDetector,
  opts: { readonly gapMs: number; readonly matchMs: number; readonly top: number },
): Suggestion[] {
  const out: Suggestion[] = [];
  for (const n of noisy.filter((x) => x.selfCleared + x.unexplained > 0).slice(0, opts.top)) {
    const m = metrics.find((x) => x.id === n.id);
    const series = points.get(n.id);
    if (!m || !series || series.length === 0) continue;
    const explained = incidents.filter((i) => i.metrics.includes(m.id) && i.suspect !== null);
    const before = episodes(detectorFor(m), series, m.detector.minDuration, opts.gapMs).length;
    for (const alt of alternatives(m)) {
      const found = episodes(detectorFor(alt.metric), series, alt.metric.detector.minDuration, opts.gapMs);
      const kept = explained.filter((i) => found.some((t) => Math.abs(t - i.onsetAt) <= opts.matchMs)).length;
      if (found.length < before && kept === explained.length) {
        out.push({ metricId: m.id, change: alt.change, episodesBefore: before, episodesAfter: found.length, explainedKept: kept, explainedTotal: explained.length });
        break;
      }
    }
  }
  return out;
}

export function metricDays(metrics: readonly WatchedMetric[], from: EpochMs, to: EpochMs): number {
  return (metrics.length * Math.max(0, to - from)) / DAY;
}
