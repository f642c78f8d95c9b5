/**
 * The range a metric covered at the same time of day over the last week: one (min, max) per time-of-day bucket, in two
 * generations of a week each (the current week and the one before), so the reference spans between one and two weeks
 * at the cost of 4 numbers per bucket of the day (48 for two-hour buckets), whatever the sampling period.
 *
 * Why: the incident gate's daily reference (recent-range.ts) remembers one day, so a pattern with a weekly cycle looks
 * new every time it comes round — Monday's peak after a quiet weekend, the weekend's dip after a busy week. A value the
 * metric reached at this time of day on some day of the last week is not new, and does not wake anyone.
 * The buckets are fed with the daily ring's buckets as they leave it (recentRangeAdd's `evict`), so what is in here is
 * always older than the daily reference: an excursion never widens its own reference. Bounds are rounded outward to 4
 * significant digits already (they come from the daily ring). Days are UTC days.
 */

export interface WeeklyRangeState {
  /** Generation (floor(t / week)) of `c`; -1 before the first bucket. */
  g: number;
  /** Current and previous generation: lo, hi per time-of-day bucket, interleaved; an empty bucket holds lo 1, hi 0. */
  c: number[];
  p: number[];
}

export const WEEK_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

const empty = (buckets: number): number[] => Array.from({ length: 2 * buckets }, (_, i) => (i % 2 === 0 ? 1 : 0));

/** Buckets in a day for a bucket length (which must divide a day). */
export function bucketsPerDay(bucketMs: number): number {
  const n = DAY_MS / bucketMs;
  if (!Number.isInteger(n) || n < 1) throw new Error(`bucket length ${bucketMs} ms does not divide a day`);
  return n;
}

export const initWeeklyRange = (bucketMs: number): WeeklyRangeState => ({ g: -1, c: empty(bucketsPerDay(bucketMs)), p: empty(bucketsPerDay(bucketMs)) });

const extend = (r: number[], i: number, lo: number, hi: number): void => {
  const l = r[2 * i] as number;
  const h = r[2 * i + 1] as number;
  if (l > h) {
    r[2 * i] = lo;
    r[2 * i + 1] = hi;
    return;
  }
  if (lo < l) r[2 * i] = lo;
  if (hi > h) r[2 * i + 1] = hi;
};

/** Folds the range [lo, hi] of the bucket with index `idx` (floor(t / bucketMs)) into its time-of-day bucket. */
export function weeklyFold(st: WeeklyRangeState, idx: number, lo: number, hi: number, bucketMs: number): void {
  if (lo > hi) return;
  const n = bucketsPerDay(bucketMs);
  const g = Math.floor((idx * bucketMs) / WEEK_MS);
  if (g < st.g - 1) return;
  if (g > st.g) {
    st.p = g === st.g + 1 ? st.c : empty(n);
    st.c = empty(n);
    st.g = g;
  }
  extend(g === st.g ? st.c : st.p, ((idx % n) + n) % n, lo, hi);
}

/**
 * The range at t's time of day (and `spread` neighbouring buckets on each side: a pattern that comes a little earlier or
 * later) over the stored generations; lo > hi when none saw a point. Generations more than a week older than t's are
 * left out.
 */
export function weeklyRange(st: WeeklyRangeState, t: number, bucketMs: number, spread: number): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  if (st.g < 0) return { lo, hi };
  const n = bucketsPerDay(bucketMs);
  const g = Math.floor(t / WEEK_MS);
  const at = Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / bucketMs);
  for (const [r, rg] of [[st.c, st.g], [st.p, st.g - 1]] as const) {
    if (g - rg > 1) continue;
    for (let k = -spread; k <= spread; k++) {
      const i = (((at + k) % n) + n) % n;
      const l = r[2 * i] as number;
      const h = r[2 * i + 1] as number;
      if (l > h) continue;
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    }
  }
  return { lo, hi };
}
