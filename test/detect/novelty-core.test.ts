import { describe, expect, it } from 'vitest';
import { logLikelihoodScore, logNormalTail, normalTailProb } from '../../src/detect/likelihood.js';
import { histObserve, histStart, initHist } from '../../src/detect/value-histogram.js';
import { DEFAULT_NOVELTY, initNovelty, noveltyUpdate, type NoveltyOut } from '../../src/detect/novelty-core.js';
import { createDetector } from '../../src/detect/config.js';
import { epochMs } from '../../src/core/time.js';

const PERIOD = 300_000;
const ts = (i: number) => epochMs(Date.UTC(2024, 0, 1) + i * PERIOD);

/** Deterministic uniform(0, 1) stream. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

describe('likelihood', () => {
  it('logNormalTail matches the standard normal upper tail, far into both tails', () => {
    const cases: [number, number][] = [
      [0, 0.5],
      [1, 0.15865525393145707],
      [3, 0.0013498980316301035],
      [-2, 0.9772498680518208],
      [6, 9.865876450376946e-10],
    ];
    for (const [z, q] of cases) expect(Math.abs(normalTailProb(z) - q) / q, `z=${z}`).toBeLessThan(1e-6);
    // Q(20) = 2.7536241186061556e-89: far below what exp/1-Φ could represent without the log form.
    expect(logNormalTail(20)).toBeCloseTo(Math.log(2.7536241186061556e-89), 4);
  });

  it('logLikelihoodScore maps a tail of 10^-k to k/decades, clamped to [0, 1]', () => {
    expect(logLikelihoodScore(Math.log(1e-4), 8)).toBeCloseTo(0.5, 12);
    expect(logLikelihoodScore(Math.log(1e-12), 8)).toBe(1);
    expect(logLikelihoodScore(0, 8)).toBe(0);
  });
});

describe('value histogram', () => {
  it('keeps every count while its bins shift and merge to cover a growing range, and knows frequent from novel values', () => {
    const h = initHist(32);
    histStart(h, 100);
    const r = rng(3);
    let added = 0;
    for (let i = 0; i < 900; i++) {
      histObserve(h, 100 + (r() - 0.5) * 2, 1e9); // a narrow band around 100
      added++;
    }
    expect(h.c.reduce((a, b) => a + b, 0)).toBe(added);
    expect(histObserve(h, 100, 1e9)).toBeGreaterThan(0.02); // the usual value
    expect(histObserve(h, 5000, 1e9)).toBe(0); // never seen: forces the bins to merge
    added += 2;
    expect(h.c.reduce((a, b) => a + b, 0)).toBe(added);
    expect(h.tot).toBe(added);
    // Below zero while the window starts at bin 0: the window shifts (an older version merged bins forever here).
    const w = h.w;
    expect(histObserve(h, -3000, 1e9)).toBe(0);
    expect(h.w).toBe(w);
    expect(h.c.reduce((a, b) => a + b, 0)).toBe(added + 1);
    expect(histObserve(h, 100, 1e9)).toBeGreaterThan(0.9); // 100 still has its own bin, apart from -3000 and 5000
  });

  it('a value too large for the bins to address is unseen and not recorded (no runaway re-binning)', () => {
    const h = initHist(16);
    histStart(h, 1e-6);
    for (let i = 0; i < 10; i++) histObserve(h, 1e-6, 1e9);
    const w = h.w;
    expect(histObserve(h, 1.7e308, 1e9)).toBe(0);
    expect(h.w).toBe(w);
    expect(h.tot).toBe(10);
  });

  it('halves its counts every halfLife points, so old habits fade', () => {
    const h = initHist(16);
    histStart(h, 10);
    for (let i = 0; i < 99; i++) histObserve(h, 10, 100);
    expect(h.tot).toBe(99);
    histObserve(h, 10, 100);
    expect(h.tot).toBe(50);
  });
});

describe('novelty core', () => {
  const feed = (values: number[]) => {
    const st = initNovelty();
    const out: NoveltyOut = { score: 0, raw: 0, z: 0, expected: NaN, scale: 0 };
    const raw: number[] = [];
    const score: number[] = [];
    for (const v of values) {
      noveltyUpdate(st, v, DEFAULT_NOVELTY, out);
      raw.push(out.raw);
      score.push(out.score);
    }
    return { raw, score, st };
  };
  const noise = (n: number, seed = 11) => {
    const r = rng(seed);
    return Array.from({ length: n }, () => 50 + (r() - 0.5) * 4);
  };

  it('reports one score per incident: after a spike, the following points within the hold report 0 unless much higher', () => {
    const v = noise(3000);
    v[1500] = 150;
    v[1501] = 150;
    v[1502] = 150;
    const { raw, score } = feed(v);
    expect(score[1500]).toBeGreaterThan(0.9);
    expect(raw[1501]).toBeGreaterThan(0.3); // the raw novelty is still high...
    expect(score.slice(1501, 1500 + DEFAULT_NOVELTY.suppressHold).every((s) => s === 0)).toBe(true); // ...but suppressed
  });

  it('reports a later incident again once the hold has passed', () => {
    const v = noise(4000);
    v[1500] = 150;
    v[1500 + DEFAULT_NOVELTY.suppressHold + 300] = 160;
    const { score } = feed(v);
    expect(score[1500]).toBeGreaterThan(0.9);
    expect(score[1500 + DEFAULT_NOVELTY.suppressHold + 300]).toBeGreaterThan(0.9);
  });

  it('scores nothing while learning (the first `learn` points)', () => {
    const v = noise(400);
    v[100] = 1000;
    const { raw } = feed(v);
    expect(raw.slice(0, DEFAULT_NOVELTY.learn + 1).every((s) => s === 0)).toBe(true);
  });

  it('absurdly large values (z² overflows against a collapsed scale) leave the scores and the state finite', () => {
    const v = Array.from({ length: 1000 }, (_, i) => (i === 600 ? 1e200 : i === 700 ? -1e200 : 0));
    const { raw, st } = feed(v);
    expect(raw.every((s) => Number.isFinite(s) && s >= 0 && s <= 1)).toBe(true);
    expect(raw[600]).toBeGreaterThan(0.5);
    expect(JSON.stringify(st)).not.toContain('null');
  });

  /** Normal(mean, sd) values from a Box–Muller pair of the deterministic stream. */
  const gaussian = (n: number, mean: number, sd: number, seed: number) => {
    const r = rng(seed);
    return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()));
  };
  const scaleAfter = (values: number[]) => {
    const st = initNovelty();
    const out: NoveltyOut = { score: 0, raw: 0, z: 0, expected: NaN, scale: 0 };
    const scales: number[] = [];
    for (const v of values) {
      noveltyUpdate(st, v, DEFAULT_NOVELTY, out);
      scales.push(out.scale);
    }
    return scales;
  };

  it('a counter whose first point is exactly 0 learns its real scale within a few hundred points', () => {
    // Level 0 and scale 0 after the first point: with only the 1e-9 floor, every residual was clipped to ~3e-9 and the
    // scale crawled back multiplicatively (0.2 after 1,431 points of 3 ± 1.2), so ordinary noise scored z of 5–30.
    const v = [0, ...gaussian(1500, 3, 1.2, 21).map((x) => Math.max(0, x))];
    const scales = scaleAfter(v);
    expect(scales[300]).toBeGreaterThan(0.6);
    expect(scales[300]).toBeLessThan(2.4);
    expect(scales[1500]).toBeGreaterThan(0.6);
  });

  it('one huge outlier after learning leaves the scale as it was (the range floor is for the start only)', () => {
    // A 30 s timeout on a 120 ± 10 ms latency: a floor of 1 % of the range would be 300 ms, ten times the noise, and
    // a 70 % regression a day later would score nothing (independent set 3, file 04).
    const v = gaussian(3000, 120, 10, 8);
    v[1000] = 30_000;
    const scales = scaleAfter(v);
    expect(scales[999]).toBeLessThan(16);
    expect(scales[1001]).toBeLessThan(16);
    expect(scales[2999]).toBeLessThan(16);
  });

  it('a sparse counter (mostly 0, occasional small counts) keeps finite scores and a finite state', () => {
    const r = rng(5);
    const v = Array.from({ length: 5000 }, () => (r() < 0.9 ? 0 : 1 + Math.floor(r() * 3)));
    const { raw, st } = feed(v);
    expect(raw.every((s) => Number.isFinite(s) && s >= 0 && s <= 1)).toBe(true);
    const flat = JSON.stringify(st);
    expect(flat).not.toContain('null'); // NaN and Infinity serialize as null
  });
});

describe('default detector on typical series', () => {
  const alarms = (f: (i: number, r: () => number) => number, n = 8000) => {
    const det = createDetector({}, PERIOD);
    const st = det.init();
    const r = rng(17);
    const at: number[] = [];
    for (let i = 0; i < n; i++) if (det.update(st, ts(i), f(i, r)).anomalous) at.push(i);
    return at;
  };

  it('a permanent level shift raises one alarm at the shift, not a stream of alarms while it adapts', () => {
    for (const f of [
      (i: number, r: () => number) => 50 + (r() - 0.5) * 4 + (i >= 3000 ? 12 : 0),
      (i: number, r: () => number) => (50 + (r() - 0.5) * 4) * (i >= 3000 ? 0.5 : 1),
    ]) {
      const at = alarms(f);
      expect(at).toEqual([3000]);
    }
  });

  it('no alarm on stationary noise or a clean daily cycle', () => {
    expect(alarms((_, r) => 50 + (r() - 0.5) * 4)).toEqual([]);
    expect(alarms((i, r) => 50 + 10 * Math.sin((2 * Math.PI * i) / 288) + (r() - 0.5) * 4)).toEqual([]);
  });

  it("seasonality 'daily' flags a value that is normal at noon but not at night; 'none' cannot tell", () => {
    const run = (seasonality: 'none' | 'daily') => {
      const det = createDetector({ seasonality }, PERIOD);
      const st = det.init();
      const r = rng(3);
      const at: number[] = [];
      const target = 288 * 25 + 216; // 18:00 UTC on day 25, the trough of the cycle
      for (let i = 0; i < 288 * 30; i++) {
        const hour = (i * PERIOD) / 3_600_000;
        let v = 100 + 80 * Math.sin((2 * Math.PI * hour) / 24) + (r() - 0.5) * 6;
        if (i >= target && i < target + 12) v = 100; // the daily mean, at the hour it is usually 20
        if (det.update(st, ts(i), v).anomalous) at.push(i);
      }
      return { at, target };
    };
    const daily = run('daily');
    expect(daily.at).toEqual([daily.target]);
    expect(run('none').at).toEqual([]);
  });
});

describe('spatial novelty (a value beyond the whole range seen so far)', () => {
  // Spatial rule alone: no channels, no change points, no suppression. 1,000 points at 50 ± 0.5, with one 0 and one 100
  // early on (Huber-clipped, so the scale stays that of the noise): the range is [0, 100], its width 100.
  const only = { ...DEFAULT_NOVELTY, channels: 0, changePoint: null, suppressHold: 0 };
  const after = (x: number): number => {
    const st = initNovelty(only);
    const out: NoveltyOut = { score: 0, raw: 0, z: 0, expected: NaN, scale: 0 };
    const r = rng(21);
    for (let i = 0; i < 1000; i++) noveltyUpdate(st, i === 200 ? 0 : i === 300 ? 100 : 50 + (r() - 0.5), only, out);
    noveltyUpdate(st, x, only, out);
    return out.raw;
  };

  it('a new record by less than spatialTol (5 %) of the range does not score: a series sets records by a little', () => {
    expect(DEFAULT_NOVELTY.spatialTol).toBe(0.05);
    expect(after(103)).toBe(0);
    expect(after(-4)).toBe(0);
    expect(after(100)).toBe(0);
  });

  it('a value beyond the range by more than 5 % of it scores 1, on either side', () => {
    expect(after(107)).toBe(1);
    expect(after(-7)).toBe(1);
  });
});
