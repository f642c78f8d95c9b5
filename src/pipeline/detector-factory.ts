import { createDetector } from '../detect/config.js';
import type { StreamingDetector } from '../detect/detector.js';
import type { WatchedMetric } from '../policy/compile.js';

/** The detector for one watched metric, from its settings (policy `detection` merged with the metric's own). */
export function detectorFor(m: WatchedMetric): StreamingDetector {
  return createDetector(m.detector, m.periodSec * 1000);
}
