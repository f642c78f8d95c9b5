import type { MetricPoint } from '../cloud/ports.js';
import { MINUTE } from '../core/time.js';

/** One of the affected service's metrics before the onset (drift evidence for slow regressions). */
export interface CorrelationSeries {
  readonly metricName: string;
  /** Which way the metric goes wrong (the policy's detector direction). */
  readonly direction: 'up' | 'down' | 'both';
  readonly points: readonly MetricPoint[];
}

const minutes = (ms: number): string => {
  const m = Math.round(Math.abs(ms) / MINUTE);
  return m >= 120 ? `${(m / 60).toFixed(1)} h` : `${m} min`;
};

/** Spearman rank correlation of values against time (ties are rare in metric data and ignored). */
export function trend(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(n);
  order.forEach(([, i], r) => (rank[i] = r));
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += ((rank[i] ?? 0) - i) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/**
 * Where a flat-then-sloped series bends: the breakpoint of the best least-squares hinge fit
 * (v = c before it, c + k·(t − b) after it), searched over the points with at least `minSide` on each
 * side. Returns the breakpoint's time, or null with too few points. O(n²), n ≤ a few hundred.
 */
export function changePoint(points: readonly MetricPoint[], minSide = 10): number | null {
  const n = points.length;
  if (n < 2 * minSide) return null;
  let best = Infinity;
  let at: number | null = null;
  const t0 = points[0]?.t ?? 0;
  const ts = points.map((p) => (p.t - t0) / MINUTE);
  const vs = points.map((p) => p.v);
  for (let i = minSide; i <= n - minSide; i++) {
    const b = ts[i] ?? 0;
    // Regress v on x = max(0, t − b) with an intercept.
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let j = 0; j < n; j++) {
      const x = Math.max(0, (ts[j] ?? 0) - b);
      const y = vs[j] ?? 0;
      sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    const den = n * sxx - sx * sx;
    const k = den === 0 ? 0 : (n * sxy - sx * sy) / den;
    const c = (sy - k * sx) / n;
    let sse = 0;
    for (let j = 0; j < n; j++) sse += ((vs[j] ?? 0) - c - k * Math.max(0, (ts[j] ?? 0) - b)) ** 2;
    if (sse < best) {
      best = sse;
      at = points[i]?.t ?? null;
    }
  }
  return at;
}

/**
 * How close to a deploy a drift must begin to be blamed on it: ten minutes, or a sixth of the time from
 * the deploy to the onset (the bend of a slow, noisy climb is estimated less precisely).
 */
export function driftTolerance(at: number, onsetAt: number): number {
  return Math.max(10 * MINUTE, (onsetAt - at) / 6);
}

/**
 * Evidence that a metric began a steady drift when a deployment landed (a leak, a growing queue): flat
 * in the hour before `at`, a consistent trend in the bad direction from `at` to the onset, far from the
 * old level by the onset, and — so that an older release followed by a later drift is not blamed — the
 * drift's change point (hinge fit over the hour before `at` to the onset) lies near `at`.
 * Returns the reason in plain words, or null.
 */
export function driftSince(series: readonly CorrelationSeries[], at: number, onsetAt: number): string | null {
  for (const s of series) {
    const pre = s.points.filter((p) => p.t >= at - 60 * MINUTE && p.t < at).map((p) => p.v);
    const postPoints = s.points.filter((p) => p.t >= at && p.t < onsetAt);
    const post = postPoints.map((p) => p.v);
    if (pre.length < 15 || post.length < 15) continue;
    const level = median(pre);
    const spread = median(pre.map((v) => Math.abs(v - level))) * 1.4826;
    const sigma = Math.max(spread, 1e-9 + Math.abs(level) * 0.01);
    const end = median(post.slice(-Math.min(10, post.length)));
    const start = median(post.slice(0, Math.min(10, post.length)));
    const rise = (end - level) / sigma;
    const rho = trend(post);
    const rhoPre = trend(pre);
    const dirOk = s.direction === 'both' || (s.direction === 'up' ? rise > 0 : rise < 0);
    const continuous = Math.abs(start - level) / sigma < Math.abs(rise) / 3;
    if (!(dirOk && Math.sign(rho) === Math.sign(rise) && Math.abs(rho) >= 0.6 && Math.abs(rhoPre) <= 0.35 && Math.abs(rise) >= 6 && continuous)) continue;
    const window = s.points.filter((p) => p.t >= at - 60 * MINUTE && p.t < onsetAt);
    const bend = changePoint(window);
    if (bend === null || Math.abs(bend - at) > driftTolerance(at, onsetAt)) continue;
    const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
    return `${s.metricName} was flat before this deploy and has ${rise > 0 ? 'climbed' : 'fallen'} steadily since it landed (${fmt(level)} → ${fmt(end)}), so it surfaced ${minutes(onsetAt - at)} later (the climb began ${minutes(bend - at)} ${bend >= at ? 'after' : 'before'} it landed)`;
  }
  return null;
}
