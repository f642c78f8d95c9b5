import { describe, expect, it } from 'vitest';
import { epochMs } from '../../src/core/time.js';
import { confirms, resolve, tentative } from '../../src/detect/alarm-confirm.js';
import { createDetector, detectorConfigSchema } from '../../src/detect/config.js';
import type { AdaptiveState } from '../../src/detect/adaptive-detector.js';
import { initHysteresis, pagedRanges } from '../../src/detect/incident-hysteresis.js';
import { initIncidentHold } from '../../src/detect/incident-hold.js';
import { stillDeviating } from '../../src/incident/grouping.js';
import { rng } from '../../src/nab/synthetic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2);

/** A one-minute error count around 10 (sd 1) for `days` days; `at` overrides single minutes. */
function errors(days: number, at: (i: number, v: number) => number): number[] {
  const r = rng(11);
  const n = days * 1440;
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    xs.push(at(i, 10 + g));
  }
  return xs;
}

function alarms(xs: readonly number[]): number[] {
  const det = createDetector(detectorConfigSchema.parse({ direction: 'up' }), MIN);
  const st = det.init() as AdaptiveState;
  const out: number[] = [];
  xs.forEach((x, i) => {
    if (det.update(st, epochMs(T0 + i * MIN), x).anomalous) out.push(i);
  });
  return out;
}

describe('an alarm holds only once the next point confirms it (alarm-confirm.ts)', () => {
  const spike = 3 * 1440; // a harmless one-point spike after three days
  const shift = spike + 60; // an hour later, a real regression: +12 for half an hour

  it('a one-point spike that alarmed does not mute the regression an hour later', () => {
    const xs = errors(4, (i, v) => (i === spike ? v + 40 : i >= shift && i < shift + 30 ? v + 12 : v));
    const a = alarms(xs);
    expect(a).toContain(spike);
    // Before: the spike scored 1 and held the metric for twelve hours (nothing beats a hold of 1).
    expect(a.some((i) => i >= shift && i < shift + 30)).toBe(true);
  });

  it('a confirmed alarm still holds: a sustained shift alarms once, not at every point', () => {
    const xs = errors(4, (i, v) => (i >= shift && i < shift + 30 ? v + 12 : v));
    const during = alarms(xs).filter((i) => i >= shift && i < shift + 30);
    expect(during.length).toBe(1);
  });

  it('a spike is not remembered as paged for the week (re-alarm hysteresis), a confirmed excursion is', () => {
    const paged = (bump: (i: number) => number): boolean => {
      const det = createDetector(detectorConfigSchema.parse({ direction: 'up' }), MIN);
      const st = det.init() as AdaptiveState;
      const xs = errors(4, (i, v) => v + bump(i));
      xs.slice(0, spike + 40).forEach((x, i) => det.update(st, epochMs(T0 + i * MIN), x));
      const r = pagedRanges(st.hy, T0 + (spike + 40) * MIN);
      return r.x.lo <= r.x.hi;
    };
    expect(paged((i) => (i === spike ? 40 : 0))).toBe(false);
    expect(paged((i) => (i >= spike && i < spike + 20 ? 40 : 0))).toBe(true);
  });

  it('uses the same rule as grouping for "still deviating"', () => {
    const hold = initIncidentHold();
    const hy = initHysteresis();
    const sig = { metricId: 'm', metricName: 'm', direction: 'up' as const, startedAt: epochMs(0), lastAnomalousAt: epochMs(0), clearedAt: null, peakScore: 1, peakValue: 50, expected: 10 };
    const up = tentative(hold, hy, 50, 10);
    const down = tentative(hold, hy, 2, 10);
    for (const v of [5, 10, 21, 22.5, 30, 60]) {
      expect(confirms(up, v)).toBe(stillDeviating(sig, v));
      expect(confirms(down, v)).toBe(stillDeviating({ ...sig, direction: 'down', peakValue: 2 }, v));
    }
    expect(confirms(tentative(hold, hy, 10, 10), 50)).toBe(false); // no excursion: nothing confirms it
  });

  it('a blip gives back the hold and the hysteresis it started; a confirmed alarm keeps them', () => {
    const before = { p: 0.4, t: 5 };
    const hy = { d: 0, u: 7, r: [1, 2, 3, 4] as [number, number, number, number] };
    const a = tentative(before, hy, 50, 10);
    const ih = { p: 1, t: 99 };
    const hy2 = { d: 1, u: 200, r: [40, 50, 12, 14] as [number, number, number, number] };
    resolve(a, 45, ih, hy2);
    expect(ih).toEqual({ p: 1, t: 99 });
    expect(hy2.u).toBe(200);
    resolve(a, 11, ih, hy2);
    expect(ih).toEqual(before);
    expect(hy2).toEqual(hy);
  });
});
