import { describe, expect, it } from 'vitest';
import { bucketRange, initRecentRange, recentRange, recentRangeAdd, roundOut } from '../../src/detect/recent-range.js';

const H = 3_600_000;
const P = { bucketMs: H, slots: 5, skip: 1 };

describe('recent range (min and max per time bucket, in a ring)', () => {
  it('is empty (lo > hi) before any point and when only the skipped current bucket has points', () => {
    const st = initRecentRange(P);
    expect(recentRange(st, 0, P).lo).toBeGreaterThan(recentRange(st, 0, P).hi);
    recentRangeAdd(st, 10 * H, 5, P);
    const r = recentRange(st, 10 * H + 1, P);
    expect(r.lo).toBeGreaterThan(r.hi);
  });

  it('spans the buckets before the current one, up to slots − skip of them, and forgets older ones', () => {
    const st = initRecentRange(P);
    for (let h = 0; h < 10; h++) recentRangeAdd(st, h * H + 1, h * 10, P); // bucket h holds the value 10·h
    // Seen from hour 10: the reference is hours 6–9 (hour 10 skipped, ring of 5).
    expect(recentRange(st, 10 * H, P)).toEqual({ lo: 60, hi: 90 });
    // Seen from hour 12 (nothing added since hour 9): hours 8–11, of which 8 and 9 hold data.
    expect(recentRange(st, 12 * H, P)).toEqual({ lo: 80, hi: 90 });
    // After a gap longer than the ring, nothing is left.
    const late = recentRange(st, 30 * H, P);
    expect(late.lo).toBeGreaterThan(late.hi);
    recentRangeAdd(st, 30 * H, 1, P);
    expect(st.lo.filter((l, i) => l <= (st.hi[i] as number))).toEqual([1]);
  });

  it('bucketRange reads one bucket of the ring, only while it is in the ring and not skipped at t', () => {
    const st = initRecentRange(P);
    for (let h = 0; h < 10; h++) recentRangeAdd(st, h * H + 1, h * 10, P);
    expect(bucketRange(st, 7, 10 * H, P)).toEqual({ lo: 70, hi: 70 });
    expect(bucketRange(st, 5, 10 * H, P)).toEqual({ lo: 50, hi: 50 }); // still in the ring (leaves it at the next bucket)
    for (const idx of [4, 10, 11]) {
      const r = bucketRange(st, idx, 10 * H, P); // gone, the skipped current bucket, the future
      expect(r.lo, `bucket ${idx}`).toBeGreaterThan(r.hi);
    }
    const skipped = bucketRange(st, 9, 9 * H + 2, P);
    expect(skipped.lo).toBeGreaterThan(skipped.hi);
  });

  it('counts a point older than the newest bucket in the newest (out-of-order input never corrupts the ring)', () => {
    const st = initRecentRange(P);
    recentRangeAdd(st, 3 * H, 10, P);
    recentRangeAdd(st, 1 * H, 50, P);
    expect(recentRange(st, 4 * H, P)).toEqual({ lo: 10, hi: 50 });
  });

  it('rounds bounds outward to 4 significant digits, so the range only ever widens', () => {
    for (const x of [1678991.51666667, 0.0123456, -3.14159265, 99.99999, 1e-12, -7e9, 5]) {
      const lo = roundOut(x, false);
      const hi = roundOut(x, true);
      expect(lo).toBeLessThanOrEqual(x);
      expect(hi).toBeGreaterThanOrEqual(x);
      expect(Math.abs(hi - lo)).toBeLessThanOrEqual(Math.abs(x) * 2.1e-3);
      expect(String(hi).replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+|0+$/g, '').length).toBeLessThanOrEqual(4);
    }
    expect(roundOut(0, true)).toBe(0);
  });

  it('is plain JSON: a parsed copy gives the same range and continues identically', () => {
    const st = initRecentRange(P);
    for (let i = 0; i < 50; i++) recentRangeAdd(st, i * 600_000, Math.sin(i) * 1e6, P);
    const copy = JSON.parse(JSON.stringify(st)) as typeof st;
    expect(recentRange(copy, 50 * 600_000, P)).toEqual(recentRange(st, 50 * 600_000, P));
    recentRangeAdd(st, 51 * 600_000, 7, P);
    recentRangeAdd(copy, 51 * 600_000, 7, P);
    expect(copy).toEqual(st);
  });
});

describe('recent range eviction (what feeds the weekly reference)', () => {
  it('reports each bucket with data as it leaves the ring, oldest first, including after a gap longer than the ring', () => {
    const st = initRecentRange(P);
    const out: [number, number, number][] = [];
    const evict = (i: number, lo: number, hi: number): void => void out.push([i, lo, hi]);
    for (let h = 0; h < 7; h++) recentRangeAdd(st, h * H + 1, h * 10, P, evict);
    // Ring of 5: entering hour 5 evicts hour 0, hour 6 evicts hour 1.
    expect(out).toEqual([[0, 0, 0], [1, 10, 10]]);
    recentRangeAdd(st, 20 * H, 1, P, evict); // a gap: hours 2–6 all leave, in order
    expect(out.map((x) => x[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(out.at(-1)).toEqual([6, 60, 60]);
  });
});

describe('recent range with robustMin: one extreme point of a full bucket is not where the metric has been', () => {
  const R = { ...P, robustMin: 10 };
  const fill = (st: ReturnType<typeof initRecentRange>, hour: number, values: number[]) => values.forEach((v, i) => recentRangeAdd(st, hour * H + i * 60_000, v, R));

  it('a bucket of at least robustMin points is read without its single highest and lowest point', () => {
    const st = initRecentRange(R);
    fill(st, 0, [250, 260, 240, 30000, 250, 270, 230, 250, 260, 240, 250, 10]); // latencies in ms: one 30 s timeout, one 10 ms blip
    recentRangeAdd(st, 1 * H, 250, R);
    expect(recentRange(st, 1 * H, R)).toEqual({ lo: 230, hi: 270 });
    expect(bucketRange(st, 0, 1 * H, R)).toEqual({ lo: 230, hi: 270 });
  });

  it('two points at the extreme (a real excursion, not a single outlier) keep it', () => {
    const st = initRecentRange(R);
    fill(st, 0, [250, 260, 240, 30000, 250, 270, 230, 29000, 260, 240, 250]);
    expect(recentRange(st, 1 * H, R).hi).toBe(29000);
  });

  it('a bucket of fewer points (hourly data), and a range without robustMin, keep their extremes', () => {
    const few = initRecentRange(R);
    fill(few, 0, [250, 30000, 240]);
    expect(recentRange(few, 1 * H, R)).toEqual({ lo: 240, hi: 30000 });
    const plain = initRecentRange(P);
    [250, 260, 240, 30000, 250, 270, 230, 250, 260, 240, 250].forEach((v, i) => recentRangeAdd(plain, i * 60_000, v, P));
    expect(recentRange(plain, 1 * H, P)).toEqual({ lo: 230, hi: 30000 });
    expect(plain.c).toBeUndefined();
  });

  it('evicted buckets are handed on with the same robust bounds (the weekly reference sees what the day saw)', () => {
    const st = initRecentRange(R);
    fill(st, 0, [250, 260, 240, 30000, 250, 270, 230, 250, 260, 240, 250]);
    const evicted: [number, number, number][] = [];
    recentRangeAdd(st, 7 * H, 250, R, (idx, lo, hi) => evicted.push([idx, lo, hi]));
    expect(evicted).toEqual([[0, 240, 270]]); // its single lowest (230) and highest (30 s) left out
  });

  it('a state saved before the second extremes existed goes on: its partly filled bucket keeps its extremes', () => {
    const st = initRecentRange(P); // as saved by an older build: lo and hi only
    [250, 30000, 240].forEach((v, i) => recentRangeAdd(st, i * 60_000, v, P));
    expect(st.c).toBeUndefined();
    [250, 260, 240, 250, 270, 230, 250, 260, 240, 250].forEach((v, i) => recentRangeAdd(st, (10 + i) * 60_000, v, R)); // the same bucket, now robust
    const r = recentRange(st, 1 * H, R);
    expect(r.hi).toBe(30000); // its first points were never counted as seconds: the extreme it holds stays
    fill(st, 2, [250, 260, 240, 30000, 250, 270, 230, 250, 260, 240, 250]);
    expect(recentRange(st, 3 * H, R).hi).toBe(30000); // hour 0 still in the ring with its extreme…
    expect(bucketRange(st, 2, 3 * H, R)).toEqual({ lo: 240, hi: 270 }); // …a bucket filled since reads robustly
  });
});

