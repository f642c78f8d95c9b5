/**
 * The policy layer shared by every detector: direction filter, sensitivity threshold, minimum duration,
 * warm-up and missing-data treatment. Turns a raw per-point score into a PointVerdict.
 */
import type { PointVerdict } from './detector.js';

export interface PolicyState {
  /** Consecutive points whose score crossed the threshold in an allowed direction. */
  dur: number;
}

export interface PolicyOptions {
  readonly direction: 'up' | 'down' | 'both';
  readonly threshold: number;
  readonly minDuration: number;
}

/** A verdict for a score in [0, 1] and the side of the expected value the point fell on. */
export function verdict(
  ps: PolicyState,
  o: PolicyOptions,
  score: number,
  side: 'up' | 'down' | null,
  expected: number,
): PointVerdict {
  const allowed = side !== null && (o.direction === 'both' || o.direction === side);
  const s = allowed ? score : 0;
  if (s >= o.threshold && s > 0) ps.dur += 1;
  else ps.dur = 0;
  const anomalous = ps.dur >= o.minDuration;
  return { score: s, anomalous, direction: anomalous ? side : null, expected };
}

export const quietVerdict = (expected: number): PointVerdict => ({ score: 0, anomalous: false, direction: null, expected });
