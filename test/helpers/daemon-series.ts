/**
 * Generated series for the incident-rule tests that replay through the daemon path (test/detect/incident-rules,
 * test/detect/incident-hysteresis): a clock that starts on a Monday, whole days of points at a fixed period, and the
 * day of each replayed incident's onset.
 */
import { rng } from '../../src/nab/synthetic.js';
import type { SeriesReplay } from '../../src/nab/daemon-replay.js';

/** Monday 2024-01-01 00:00 UTC. */
export const T0 = Date.UTC(2024, 0, 1);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** `days` of data every `periodMs`: f(t, r) at t ms since T0, r a seeded uniform generator in [0, 1). */
export function series(periodMs: number, days: number, f: (t: number, r: () => number) => number, seed = 5): { ts: Float64Array; vs: Float64Array } {
  const n = Math.floor((days * DAY) / periodMs);
  const r = rng(seed);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * periodMs;
    vs[i] = f(i * periodMs, r);
  }
  return { ts, vs };
}

/** Noise of ±halfWidth around `level`, plus extra(t). */
export const noisy = (extra: (t: number) => number, level = 100, halfWidth = 3) => (t: number, r: () => number): number => level + (r() - 0.5) * 2 * halfWidth + extra(t);

/** The day (since T0) of each incident's onset. */
export const onsetDays = (rep: SeriesReplay): number[] => rep.incidents.map((x) => Math.floor((x.onset - T0) / DAY));

/** Incidents that overlap no labeled window. */
export const falseIncidents = (rep: SeriesReplay): SeriesReplay['incidents'] => rep.incidents.filter((x) => !x.inWindow);
