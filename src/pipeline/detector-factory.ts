import type { StreamingDetector } from '../detect/detector.js';
import { rollingZScore } from '../detect/rolling-zscore.js';
import type { WatchedMetric } from '../policy/compile.js';

const THRESHOLD = { low: 6, medium: 4.5, high: 3.5 } as const;

/** The detector for one watched metric, from its (merged) detector settings. */
export function detectorFor(m: WatchedMetric): StreamingDetector {
  const d = m.detector;
  return rollingZScore({ window: 60, threshold: THRESHOLD[d.sensitivity], direction: d.direction, warmup: Math.min(d.warmup, 60) }) as StreamingDetector;
}
