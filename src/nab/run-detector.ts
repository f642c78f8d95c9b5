/** Runs a streaming detector over one series and collects its NAB anomaly scores. Pure (no I/O). */
import type { EpochMs } from '../core/time.js';
import type { StreamingDetector } from '../detect/detector.js';

export interface DetectorRun {
  readonly scores: Float64Array;
  /** JSON size of the state after the last point, in bytes (UTF-8; the state is ASCII). */
  readonly stateBytes: number;
}

/** Feeds every point in order (NaN values are passed as missing) and returns the scores, clamped to [0, 1]. */
export function runDetector(det: StreamingDetector, timestamps: ArrayLike<number>, values: ArrayLike<number>): DetectorRun {
  const st = det.init();
  const n = values.length;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    const s = det.update(st, timestamps[i] as EpochMs, Number.isNaN(v) ? null : v).score;
    scores[i] = s > 1 ? 1 : s > 0 ? s : 0;
  }
  return { scores, stateBytes: JSON.stringify(st).length };
}

/** Median step between consecutive timestamps (ms); 5 minutes when unknown. */
export function medianPeriod(timestamps: ArrayLike<number>): number {
  const d: number[] = [];
  for (let i = 1; i < timestamps.length; i++) {
    const x = (timestamps[i] as number) - (timestamps[i - 1] as number);
    if (x > 0) d.push(x);
  }
  if (d.length === 0) return 300_000;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] as number;
}
