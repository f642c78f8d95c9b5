import { describe, expect, it } from 'vitest';
import { calibratedLogTail, calibrationLearn, DEFAULT_CALIBRATION, initCalibration } from '../../src/detect/calibration.js';
import { createDetector, thresholdForSensitivity } from '../../src/detect/config.js';
import { epochMs } from '../../src/core/time.js';
import { rng } from '../../src/nab/synthetic.js';

const T0 = Date.UTC(2024, 0, 1);
const DEFAULT_THRESHOLD = thresholdForSensitivity(0.5);

/** Scores and verdicts of the default detector over `n` points of uniform noise (±2 around 100) plus `edit`. */
function run(periodMs: number, n: number, seed: number, edit: (i: number, v: number) => number = (_, v) => v) {
  const det = createDetector({}, periodMs);
  const st = det.init();
  const r = rng(seed);
  let maxScore = 0;
  const anomalous: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = det.update(st, epochMs(T0 + i * periodMs), edit(i, 100 + (r() - 0.5) * 4));
    if (v.score > maxScore) maxScore = v.score;
    if (v.anomalous) anomalous.push(i);
  }
  return { maxScore, anomalous, state: st, det };
}

describe('tail calibration (calibration.ts)', () => {
  it('a series with no history is scored at the nominal tail: the prior is the Gaussian figure', () => {
    const st = initCalibration();
    for (const l of [1, DEFAULT_CALIBRATION.u, 10, 30]) expect(calibratedLogTail(st, l, DEFAULT_CALIBRATION)).toBeCloseTo(-l, 9);
  });

  it('a series whose surprises are routinely large learns that: a surprise of 20 is then only as rare as this series makes it', () => {
    const p = { ...DEFAULT_CALIBRATION, deflateOnly: false };
    const st = initCalibration();
    const r = rng(7);
    // Surprise ~ exponential with mean 3: P(L > l) = e^(−l/3), three times heavier than the nominal e^(−l).
    for (let i = 0; i < 20_000; i++) calibrationLearn(st, -3 * Math.log(r()), p);
    expect(calibratedLogTail(st, 20, p)).toBeGreaterThan(-20 / 3 - 1);
    expect(calibratedLogTail(st, 20, p)).toBeLessThan(-20 / 3 + 1);
    // Monotone: a larger surprise is never less rare.
    let prev = 0;
    for (let l = 0; l <= 40; l += 0.5) {
      const c = calibratedLogTail(st, l, p);
      expect(c).toBeLessThanOrEqual(prev);
      prev = c;
    }
  });

  it('deflate-only (the default) never makes a surprise rarer than the nominal tail, even on a series that never exceeded u', () => {
    const st = initCalibration();
    for (let i = 0; i < 10_000; i++) calibrationLearn(st, 0.5, DEFAULT_CALIBRATION);
    for (const l of [5, 10, 30]) expect(calibratedLogTail(st, l, DEFAULT_CALIBRATION)).toBeGreaterThanOrEqual(-l);
    expect(calibratedLogTail(st, 30, { ...DEFAULT_CALIBRATION, deflateOnly: false })).toBeLessThan(-30);
  });

  it('one gross surprise moves the mean excess by a bounded step (clipped), so the next anomaly still scores', () => {
    const st = initCalibration();
    const r = rng(9);
    for (let i = 0; i < 5_000; i++) calibrationLearn(st, -Math.log(r()), DEFAULT_CALIBRATION);
    const before = calibratedLogTail(st, 25, DEFAULT_CALIBRATION);
    calibrationLearn(st, 10_000, DEFAULT_CALIBRATION);
    expect(calibratedLogTail(st, 25, DEFAULT_CALIBRATION)).toBeLessThan(before / 2);
  });

  it('the state is three finite numbers of small JSON', () => {
    const st = initCalibration();
    const r = rng(3);
    for (let i = 0; i < 30_000; i++) calibrationLearn(st, -2 * Math.log(r()), DEFAULT_CALIBRATION);
    expect(Object.keys(st).sort()).toEqual(['e', 'k', 'n']);
    for (const v of Object.values(st)) expect(Number.isFinite(v)).toBe(true);
    expect(JSON.stringify(st).length).toBeLessThan(60);
  });
});

describe('the default detector on long series (calibrated score)', () => {
  it('a stationary noisy one-minute series of 22,000 points never reaches the default threshold', () => {
    for (const seed of [1, 2, 3, 11]) expect(run(60_000, 22_000, seed).maxScore, `seed ${seed}`).toBeLessThan(DEFAULT_THRESHOLD);
  });

  it('a stationary noisy series of 22,000 points never raises an anomalous verdict, at one and five minutes', () => {
    for (const p of [60_000, 300_000]) for (const seed of [1, 2, 3, 11]) expect(run(p, 22_000, seed).anomalous, `period ${p} seed ${seed}`).toEqual([]);
  });

  it('a level shift of three noise widths after 15,000 points is caught at once', () => {
    for (const p of [60_000, 300_000]) {
      const { anomalous } = run(p, 22_000, 5, (i, v) => (i >= 15_000 ? v + 6 : v));
      expect(anomalous[0], `period ${p}`).toBe(15_000);
    }
  });

  it('a steadily growing series (a counter, a filling disk) does not alarm', () => {
    for (const p of [60_000, 300_000]) for (const seed of [1, 2, 3]) {
      expect(run(p, 22_000, seed, (i, v) => v + 0.01 * i).anomalous, `period ${p} seed ${seed}`).toEqual([]);
    }
  });

  it('the state stays small bounded JSON and a persisted state continues exactly as the one in memory', () => {
    const a = run(300_000, 22_000, 4);
    const json = JSON.stringify(a.state);
    expect(json.length).toBeLessThan(2_500);
    const restored = JSON.parse(json) as typeof a.state;
    const r = rng(99);
    for (let i = 0; i < 2_000; i++) {
      const t = epochMs(T0 + (22_000 + i) * 300_000);
      const x = 100 + (r() - 0.5) * 4 + (i === 1_000 ? 30 : 0);
      expect(a.det.update(restored, t, x)).toEqual(a.det.update(a.state, t, x));
    }
    expect(JSON.stringify(restored).length).toBeLessThan(2_500);
  });
});
