import { describe, expect, it } from 'vitest';
import { INCIDENT_GATE } from '../../src/detect/adaptive-detector.js';
import { createDetector } from '../../src/detect/config.js';
import type { PointVerdict } from '../../src/detect/detector.js';
import { epochMs } from '../../src/core/time.js';
import { replaySeries } from '../../src/nab/daemon-replay.js';
import { rng } from '../../src/nab/synthetic.js';

const T0 = Date.UTC(2024, 0, 1);
const P = 300_000;
const DAY = 86_400_000;
const PER_DAY = DAY / P;

/** Five-minute data around 50 with one normal hour of 95s every night at 03:00 (a batch job: the daily peak). */
function batchDays(n: number, excursion?: { at: number; value: number; points: number }): PointVerdict[] {
  const det = createDetector({}, P);
  const st = det.init();
  const r = rng(3);
  const out: PointVerdict[] = [];
  for (let i = 0; i < n; i++) {
    const batch = i % PER_DAY >= 36 && i % PER_DAY < 48;
    const inside = excursion && i >= excursion.at && i < excursion.at + excursion.points;
    out.push(det.update(st, epochMs(T0 + i * P), inside ? excursion.value : (batch ? 95 : 50) + (r() - 0.5) * 4));
  }
  return out;
}

describe('incident gate: after a week, the reference is the same time of day on earlier days', () => {
  it('is the default (INCIDENT_GATE.tod 1 after 7 days)', () => {
    expect(INCIDENT_GATE.tod).toBe(1);
    expect(INCIDENT_GATE.todDays).toBe(7);
  });

  it('an hour at the nightly peak level at 12:30 opens an incident after a week; in the first week it is within the day', () => {
    for (const [day, opens] of [[9, true], [12, true], [5, false]] as const) {
      const at = PER_DAY * day + 150; // 12:30, far from the 03:00 batch hour
      const v = batchDays(at + 40, { at, value: 90, points: 12 });
      // The old reference (the whole last day, 48–97) contains 90; the same time of day on earlier days (48–52) does not.
      expect(v.slice(at, at + 12).some((x) => x.anomalous), `day ${day}`).toBe(opens);
    }
  });

  it('the nightly batch hour itself (the normal daily peak) never opens anything, before or after the first week', () => {
    const v = batchDays(PER_DAY * 14);
    expect(v.filter((x, i) => i > PER_DAY && x.anomalous)).toEqual([]);
  });

  it('a metric with a 30 % daily cycle opens nothing over two weeks (the peak, the trough, the day boundary)', () => {
    const n = PER_DAY * 14;
    const r = rng(5);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ts[i] = T0 + i * P;
      vs[i] = 100 * (1 - 0.3 * Math.cos((2 * Math.PI * (i - 19 * 12)) / PER_DAY)) + (r() - 0.5) * 4;
    }
    expect(replaySeries(ts, vs, P, []).incidents).toEqual([]);
  });
});
