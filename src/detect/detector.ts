import type { EpochMs } from '../core/time.js';

/** Which way a metric may go wrong. */
export type Direction = 'up' | 'down' | 'both';

/** What one point told the detector. */
export interface PointVerdict {
  /**
   * Anomaly likelihood in [0, 1]; 0 for points inside warm-up or missing, and (adaptive detector) for points whose
   * score does not beat the previous alarm of the same incident (suppression: one incident, one alarm).
   */
  readonly score: number;
  /** score crossed the detector's threshold in an allowed direction. */
  readonly anomalous: boolean;
  /** Which side of the expected value the point fell on (null when not anomalous). */
  readonly direction: 'up' | 'down' | null;
  /** What the detector expected here, for charts and explanations (NaN when unknown). */
  readonly expected: number;
}

/**
 * A streaming detector over one series. O(1) work per point, bounded memory, no look-ahead:
 * `update` sees each point once, in time order, and its verdict uses only earlier points.
 * The state is a plain JSON value so the store can persist it and a restart continues the baseline.
 */
export interface StreamingDetector<S = unknown> {
  readonly name: string;
  init(): S;
  /** Feeds one point (value null = missing datapoint) and returns its verdict. Mutates `state`. */
  update(state: S, t: EpochMs, value: number | null): PointVerdict;
}
