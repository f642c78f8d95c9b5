/**
 * Per-row weights A(i) and labels (SCORING.md §2–§4, NAB `Sweeper.calcSweepScore`).
 * Pure functions: timestamps are numbers (any monotone encoding of the date-time, compared for equality).
 */
import { exactExp } from './exact-exp.js';
import { PROBATION_PERCENT, type Profile } from './profiles.js';

/** `2 * sigmoid(-5y) - 1`, or -1 beyond 3 widths; computed literally to match NAB bit for bit. */
export function scaledSigmoid(y: number): number {
  if (y > 3.0) return -1.0;
  return 2 * (1 / (1 + exactExp(-(-5 * y)))) - 1;
}

/** scaledSigmoid(-1): the weight of a window's first row before scaling. */
export const MAX_TP = scaledSigmoid(-1.0);

/** Number of leading rows NAB ignores: min(floor(0.15 n), 750). */
export function probationaryLength(n: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * n), PROBATION_PERCENT * 5000);
}

/** A labelled window, as date-time numbers (inclusive bounds). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** Row label: PROBATIONARY, NONE (outside every window), or the window's index in the file's list (>= 0). */
export const PROBATIONARY = -2;
export const NONE = -1;

export interface RowWeights {
  /** A(i) for every row, probationary rows included. */
  readonly weights: Float64Array;
  /** PROBATIONARY, NONE, or the index of the window the row is in. */
  readonly labels: Int32Array;
}

/** Computes A(i) and labels for one file, walking rows in order exactly as NAB does. */
export function rowWeights(timestamps: ArrayLike<number>, windows: readonly Window[], profile: Profile): RowWeights {
  const n = timestamps.length;
  const weights = new Float64Array(n);
  const labels = new Int32Array(n);
  const probation = probationaryLength(n);
  const firstIndex = (t: number): number => {
    for (let j = 0; j < n; j++) if (timestamps[j] === t) return j;
    throw new Error(`window boundary ${t} is not a timestamp of the data file`);
  };
  for (const w of windows) {
    firstIndex(w.start);
    firstIndex(w.end);
  }
  let cur = -1;
  let R = 0;
  let width = 0;
  let prevRight: number | null = null;
  let prevWidth = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    const t = timestamps[i] as number;
    const nw = windows[next];
    if (nw !== undefined && t === nw.start) {
      cur = next;
      next++;
      R = firstIndex(nw.end);
      const L = firstIndex(nw.start);
      width = R - L + 1;
    }
    if (cur >= 0) {
      const pos = -(R - i + 1) / width;
      weights[i] = (scaledSigmoid(pos) * profile.tpWeight) / MAX_TP;
    } else if (prevRight === null) {
      weights[i] = -1.0 * profile.fpWeight;
    } else {
      const y = Math.abs(prevRight - i) / (prevWidth - 1);
      weights[i] = scaledSigmoid(y) * profile.fpWeight;
    }
    labels[i] = i < probation ? PROBATIONARY : cur >= 0 ? cur : NONE;
    if (cur >= 0 && t === (windows[cur] as Window).end) {
      prevRight = i;
      prevWidth = width;
      cur = -1;
    }
  }
  return { weights, labels };
}
