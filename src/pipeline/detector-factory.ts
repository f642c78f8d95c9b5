import { createDetector } from '../detect/config.js';
import type { PointVerdict, StreamingDetector } from '../detect/detector.js';
import { DEFAULT_NOVELTY } from '../detect/novelty-core.js';
import { rollingZScore, type RollingZState } from '../detect/rolling-zscore.js';
import type { EpochMs } from '../core/time.js';
import type { WatchedMetric } from '../policy/compile.js';

/** Window of the cold-start guard (points). */
const COLD_WINDOW = 60;

export interface DaemonDetectorState {
  readonly v: 1;
  /** Points seen (non-missing). */
  n: number;
  main: unknown;
  /** The cold-start guard's state; dropped once the main detector has learned. */
  cold: RollingZState | null;
}

/**
 * The detector the daemon runs for one watched metric (policy `detection` merged with the metric's own).
 *
 * The adaptive detector (src/detect) scores nothing until it has learned `DEFAULT_NOVELTY.learn` points
 * (150 points: two and a half hours of one-minute data): its anomaly likelihood needs that history. A daemon that has just
 * started, or a metric that was just added, must still see a service fall over, so until then a
 * cold-start guard — a robust z-score over the last hour that does not learn anomalous points — flags
 * gross deviations (|z| ≥ 8 at sensitivity 0.5). Once the main detector has learned, the guard's state
 * is dropped and only the main detector speaks.
 */
export function detectorFor(m: WatchedMetric): StreamingDetector<DaemonDetectorState> {
  // Minimum duration is applied by grouping (see observe.ts), not by the detector.
  const main = createDetector({ ...m.detector, minDuration: 1 }, m.periodSec * 1000);
  if (m.detector.kind === 'static') return wrapStatic(main);
  const learn = DEFAULT_NOVELTY.learn;
  const zThreshold = 11 - 6 * m.detector.sensitivity; // 8 at the default 0.5, 5 at 1, 11 at 0
  const cold = rollingZScore({ window: COLD_WINDOW, threshold: zThreshold, direction: m.detector.direction, warmup: Math.max(10, Math.min(m.detector.warmup, COLD_WINDOW)) });
  return {
    name: `${main.name}+cold`,
    init: () => ({ v: 1, n: 0, main: main.init(), cold: cold.init() }),
    update(st: DaemonDetectorState, t: EpochMs, value: number | null): PointVerdict {
      if (st.v !== 1) Object.assign(st, { v: 1, n: 0, main: main.init(), cold: cold.init() }); // a state of an older build
      const verdict = main.update(st.main, t, value);
      if (value === null || !Number.isFinite(value)) return verdict;
      st.n += 1;
      if (st.cold === null) return verdict;
      const guard = cold.update(st.cold, t, value);
      if (st.n > learn) st.cold = null;
      if (verdict.anomalous || !guard.anomalous) return verdict;
      return { ...guard, expected: Number.isFinite(verdict.expected) ? verdict.expected : guard.expected };
    },
  };
}

function wrapStatic(main: StreamingDetector): StreamingDetector<DaemonDetectorState> {
  return {
    name: main.name,
    init: () => ({ v: 1, n: 0, main: main.init(), cold: null }),
    update: (st, t, value) => main.update(st.main, t, value),
  };
}
