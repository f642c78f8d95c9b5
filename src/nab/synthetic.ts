/**
 * Synthetic series families for calibration checks (never for tuning): counters, rates, latencies, bursty low-volume
 * counts, daily- and weekly-seasonal traffic, at one-minute, five-minute and hourly sampling, each with or without one
 * injected anomaly (a level shift, a spike run, or a latency regression). Deterministic (seeded), pure.
 */
import type { Window } from './weights.js';
import { mulberry32 } from '../cloud/sim/random.js';

export type Family = 'counter' | 'rate' | 'latency' | 'bursty' | 'daily' | 'weekly';
export const FAMILIES: readonly Family[] = ['counter', 'rate', 'latency', 'bursty', 'daily', 'weekly'];

export interface SyntheticSeries {
  readonly name: string;
  readonly family: Family;
  readonly periodMs: number;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** One NAB-style window around the injected anomaly, or none. */
  readonly windows: readonly Window[];
}

/** Small deterministic PRNG (mulberry32). */
export const rng = mulberry32;

const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
function poisson(r: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(r)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 1);

/** Normal behaviour of a family at time t (ms since start); `r` supplies the noise. */
function normal(f: Family, t: number, r: () => number): number {
  const day = Math.sin((2 * Math.PI * (t % DAY)) / DAY);
  switch (f) {
    case 'counter':
      return poisson(r, 200);
    case 'rate':
      return Math.min(1, Math.max(0, 0.02 + 0.004 * gauss(r)));
    case 'latency':
      return 120 * Math.exp(0.25 * gauss(r));
    case 'bursty':
      return r() < 0.02 ? poisson(r, 8) : poisson(r, 0.3);
    case 'daily':
      return poisson(r, 300 * (1 + 0.6 * day));
    case 'weekly': {
      const weekend = Math.floor(t / DAY) % 7 >= 5 ? 0.5 : 1;
      return poisson(r, 300 * weekend * (1 + 0.6 * day));
    }
  }
}

/** The anomaly injected into a family: how a point inside it changes. */
function anomalous(f: Family, v: number, r: () => number): number {
  switch (f) {
    case 'counter':
    case 'daily':
    case 'weekly':
      return v * 2.5;
    case 'rate':
      return Math.min(1, v + 0.05);
    case 'latency':
      return v * 3;
    case 'bursty':
      return v + poisson(r, 12);
  }
}

/**
 * One series of `days` days at `periodMs`. With `anomaly`, a two-hour anomaly starts at 70 % of the series, and one
 * window of 10 % of the series' length is centred on it (as NAB builds windows).
 */
export function synthesize(f: Family, periodMs: number, days: number, anomaly: boolean, seed: number): SyntheticSeries {
  const r = rng(seed);
  const n = Math.floor((days * DAY) / periodMs);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const start = Math.floor(n * 0.7);
  const len = Math.max(2, Math.round((2 * HOUR) / periodMs));
  for (let i = 0; i < n; i++) {
    const t = i * periodMs;
    timestamps[i] = T0 + t;
    const v = normal(f, t, r);
    values[i] = anomaly && i >= start && i < start + len ? anomalous(f, v, r) : v;
  }
  const half = Math.floor(n * 0.05);
  const mid = start + Math.floor(len / 2);
  const windows = anomaly ? [{ start: T0 + Math.max(0, mid - half) * periodMs, end: T0 + Math.min(n - 1, mid + half) * periodMs }] : [];
  return { name: `${f}-${periodMs / 60_000}m-${anomaly ? 'anomaly' : 'clean'}-${seed}`, family: f, periodMs, timestamps, values, windows };
}

/** Every family at one-minute, five-minute and hourly sampling, with and without an anomaly. */
export function syntheticSuite(seed = 1): SyntheticSeries[] {
  const out: SyntheticSeries[] = [];
  let s = seed;
  for (const f of FAMILIES) {
    for (const [periodMs, days] of [[60_000, 7], [300_000, 14], [HOUR, 60]] as const) {
      out.push(synthesize(f, periodMs, days, false, s++));
      out.push(synthesize(f, periodMs, days, true, s++));
    }
  }
  return out;
}
