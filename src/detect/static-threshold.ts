/** The static-threshold detector: anomalous when the value is above `threshold.above` or below `threshold.below`. */
import type { EpochMs } from '../core/time.js';
import type { PointVerdict, StreamingDetector } from './detector.js';
import { quietVerdict, verdict, type PolicyState } from './policy.js';

export interface StaticConfig {
  readonly direction: 'up' | 'down' | 'both';
  readonly minDuration: number;
  readonly missing: 'ignore' | 'zero' | 'breaching' | 'notBreaching';
  readonly threshold?: { readonly above?: number | undefined; readonly below?: number | undefined } | undefined;
}

export interface StaticState extends PolicyState {
  v: 1;
}

export function staticThresholdDetector(c: StaticConfig): StreamingDetector<StaticState> {
  const above = c.threshold?.above ?? Infinity;
  const below = c.threshold?.below ?? -Infinity;
  const expected = Number.isFinite(above) && Number.isFinite(below) ? (above + below) / 2 : Number.isFinite(above) ? above : below;
  const opts = { direction: c.direction, threshold: 1, minDuration: c.minDuration };
  return {
    name: 'static',
    init: () => ({ v: 1, dur: 0 }),
    update(st: StaticState, _t: EpochMs, value: number | null): PointVerdict {
      let x = value;
      if (x === null || !Number.isFinite(x)) {
        if (c.missing === 'zero') x = 0;
        else if (c.missing === 'breaching') return verdict(st, opts, 1, c.direction === 'down' ? 'down' : 'up', expected);
        else {
          if (c.missing === 'notBreaching') st.dur = 0;
          return quietVerdict(expected);
        }
      }
      const side = x > above ? 'up' : x < below ? 'down' : null;
      return verdict(st, opts, side === null ? 0 : 1, side, expected);
    },
  };
}
