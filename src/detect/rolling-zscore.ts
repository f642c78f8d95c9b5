import type { EpochMs } from '../core/time.js';
import type { PointVerdict, StreamingDetector } from './detector.js';

/** State: a ring of recent values. */
export interface RollingZState {
  values: number[];
  next: number;
}

/**
 * The skeleton's first detector: a robust z-score (median and MAD) over a rolling window.
 * Kept as a simple, well-understood fallback; the default detector is in `config.ts`.
 */
export function rollingZScore(opts: { window: number; threshold: number; direction: 'up' | 'down' | 'both'; warmup: number }): StreamingDetector<RollingZState> {
  return {
    name: 'rollingz',
    init: () => ({ values: [], next: 0 }),
    update(state: RollingZState, _t: EpochMs, value: number | null): PointVerdict {
      if (value === null || !Number.isFinite(value)) return { score: 0, anomalous: false, direction: null, expected: Number.NaN };
      const n = state.values.length;
      let verdict: PointVerdict = { score: 0, anomalous: false, direction: null, expected: Number.NaN };
      if (n >= Math.max(5, opts.warmup)) {
        const sorted = [...state.values].sort((a, b) => a - b);
        const median = sorted[n >> 1] ?? 0;
        const mad = [...state.values].map((v) => Math.abs(v - median)).sort((a, b) => a - b)[n >> 1] ?? 0;
        const scale = Math.max(1.4826 * mad, 1e-9 + Math.abs(median) * 0.01);
        const z = (value - median) / scale;
        const dir = z > 0 ? 'up' : 'down';
        const allowed = opts.direction === 'both' || opts.direction === dir;
        const score = Math.min(1, Math.abs(z) / (2 * opts.threshold));
        const anomalous = allowed && Math.abs(z) >= opts.threshold;
        verdict = { score, anomalous, direction: anomalous ? dir : null, expected: median };
      }
      // Anomalous points do not teach the baseline (so a regression is not learned as normal).
      if (!verdict.anomalous) {
        if (n < opts.window) state.values.push(value);
        else state.values[state.next] = value;
        state.next = (state.next + 1) % opts.window;
      }
      return verdict;
    },
  };
}
