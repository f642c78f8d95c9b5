import { describe, expect, it } from 'vitest';
import { bucketsPerDay, initWeeklyRange, WEEK_MS, weeklyFold, weeklyRange } from '../../src/detect/weekly-range.js';

const H = 3_600_000;
const B = 2 * H;
const DAY = 24 * H;
/** The start of an epoch week after 2024-01-01 (a Thursday: weeks are counted from 1970-01-01, a Thursday). */
const W0 = Math.ceil(Date.UTC(2024, 0, 1) / WEEK_MS) * WEEK_MS;
const idx = (t: number): number => Math.floor(t / B);

describe('weekly range (the same time of day over the last week)', () => {
  it('is empty before anything was folded in, and rejects a bucket length that does not divide a day', () => {
    const st = initWeeklyRange(B);
    const r = weeklyRange(st, W0, B, 1);
    expect(r.lo).toBeGreaterThan(r.hi);
    expect(bucketsPerDay(B)).toBe(12);
    expect(() => initWeeklyRange(7 * H)).toThrow(/does not divide a day/);
  });

  it('answers for the same time of day on another day, and for neighbouring buckets only within `spread`', () => {
    const st = initWeeklyRange(B);
    weeklyFold(st, idx(W0 + 10 * H), 5, 9, B); // 10:00–12:00 on day 0
    expect(weeklyRange(st, W0 + 3 * DAY + 11 * H, B, 0)).toEqual({ lo: 5, hi: 9 }); // 11:00 three days later
    const before = weeklyRange(st, W0 + 3 * DAY + 8 * H, B, 0); // 08:00: another bucket
    expect(before.lo).toBeGreaterThan(before.hi);
    expect(weeklyRange(st, W0 + 3 * DAY + 8 * H, B, 1)).toEqual({ lo: 5, hi: 9 }); // … its neighbour, with spread 1
    weeklyFold(st, idx(W0 + 2 * DAY + 10 * H), 2, 7, B);
    expect(weeklyRange(st, W0 + 4 * DAY + 10 * H, B, 0)).toEqual({ lo: 2, hi: 9 }); // union over the days
  });

  it('keeps the previous week and forgets anything older (between one and two weeks of memory)', () => {
    const st = initWeeklyRange(B);
    weeklyFold(st, idx(W0 + 10 * H), 5, 9, B); // week 0
    weeklyFold(st, idx(W0 + WEEK_MS + 2 * DAY + 10 * H), 20, 21, B); // week 1
    // In week 1: weeks 0 and 1.
    expect(weeklyRange(st, W0 + WEEK_MS + 3 * DAY + 10 * H, B, 0)).toEqual({ lo: 5, hi: 21 });
    // In week 2 (nothing folded since): only week 1 still counts.
    expect(weeklyRange(st, W0 + 2 * WEEK_MS + 10 * H, B, 0)).toEqual({ lo: 20, hi: 21 });
    // Folding into week 3 drops both.
    weeklyFold(st, idx(W0 + 3 * WEEK_MS), 1, 1, B);
    const r = weeklyRange(st, W0 + 3 * WEEK_MS + 10 * H, B, 0);
    expect(r.lo).toBeGreaterThan(r.hi);
  });

  it('is plain JSON of a fixed size: 4 numbers per bucket of the day, whatever was folded in', () => {
    const st = initWeeklyRange(B);
    for (let i = 0; i < 12 * 40; i++) weeklyFold(st, idx(W0) + i, i, i + 1, B);
    expect(st.c.length + st.p.length).toBe(48);
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
  });
});
