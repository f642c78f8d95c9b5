/**
 * The range a metric covered in the recent past, kept as one (min, max) per time bucket in a ring of `slots`
 * buckets: O(slots) to read, O(1) to update, a few hundred bytes of JSON.
 *
 * Why: an incident wakes people, so a point the scorer finds improbable should also be practically significant —
 * outside where the metric has been lately. The all-time range is the wrong reference on a growing series (every new
 * record is "beyond range") and on one that once spiked (nothing is beyond range again); the range of the last day
 * moves with a trend, forgets old spikes, and contains a normal daily peak and trough. Time-based, so a one-minute
 * and an hourly series mean the same day.
 *
 * The newest `skip` buckets (the one `t` falls in, and any before it the caller asks to skip) are left out of the reference, so the first
 * points of an excursion, before the scorer is sure of it, do not widen the range the rest of it is judged against.
 * Bounds are rounded outward to 4 significant digits (the reference needs no more, and the JSON stays short).
 */

export interface RecentRangeState {
  /** Index (floor(t / bucketMs)) of the newest bucket; -1 before the first point. */
  b: number;
  /** Min and max per bucket (ring by bucket index mod slots); an empty bucket holds lo 1, hi 0 (lo > hi). */
  lo: number[];
  hi: number[];
  /**
   * With `robustMin`: the second lowest and second highest value per bucket, and its points (capped at robustMin).
   * Absent in states saved before them (and without robustMin): such buckets read with their extremes.
   */
  l2?: number[];
  h2?: number[];
  c?: number[];
}

/**
 * The bucket's bounds as a reference: without its single most extreme point on each side once it holds robustMin
 * points. One 30 s timeout among a bucket's 120 one-minute latencies is not where the metric has been: as an extreme
 * it made every latency below 30 s "within yesterday's range" for a day, and muted a 70 % regression at a release
 * (independent set 3, file 04). A bucket of fewer points (hourly data) keeps its extremes.
 */
function bounds(st: RecentRangeState, s: number, p: RecentRangeParams): [number, number] {
  const l = st.lo[s] as number;
  const h = st.hi[s] as number;
  const min = p.robustMin ?? 0;
  if (min > 0 && l <= h && st.c !== undefined && (st.c[s] as number) >= min) return [st.l2?.[s] as number, st.h2?.[s] as number];
  return [l, h];
}

export interface RecentRangeParams {
  /** Bucket length (ms). */
  readonly bucketMs: number;
  /** Buckets in the ring (the reference spans slots − skip of them). */
  readonly slots: number;
  /** Newest buckets left out of the reference. */
  readonly skip: number;
  /** A bucket with at least this many points is read without its most extreme point on each side (0 or absent: never). */
  readonly robustMin?: number;
}

export const initRecentRange = (p: RecentRangeParams): RecentRangeState => ({
  b: -1,
  lo: new Array<number>(p.slots).fill(1),
  hi: new Array<number>(p.slots).fill(0),
});

const ring = (i: number, slots: number): number => ((i % slots) + slots) % slots;

/** x rounded away from the inside of the range (down for a lower bound, up for an upper one), 4 significant digits. */
export function roundOut(x: number, up: boolean): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const e = Math.floor(Math.log10(Math.abs(x))) - 3;
  const m = x / 10 ** e;
  const r = Number(`${up ? Math.ceil(m) : Math.floor(m)}e${e}`);
  // Guard against the division's rounding putting r on the wrong side of x.
  return up ? (r >= x ? r : Number(`${Math.ceil(m) + 1}e${e}`)) : r <= x ? r : Number(`${Math.floor(m) - 1}e${e}`);
}

/** The reference range as seen at time t ([lo, hi]; lo > hi when none of its buckets saw a point). */
export function recentRange(st: RecentRangeState, t: number, p: RecentRangeParams): { lo: number; hi: number } {
  const b = Math.floor(t / p.bucketMs);
  let lo = Infinity;
  let hi = -Infinity;
  if (st.b < 0) return { lo, hi };
  // Buckets b − slots + 1 … b − skip, of which only those not newer than the newest stored one hold data.
  for (let idx = Math.min(st.b, b - p.skip); idx > b - p.slots && idx > st.b - p.slots; idx--) {
    const s = ring(idx, p.slots);
    const [l, h] = bounds(st, s, p);
    if (l > h) continue;
    if (l < lo) lo = l;
    if (h > hi) hi = h;
  }
  return { lo, hi };
}

/**
 * The range of the one bucket with index `idx` (floor(t / bucketMs)) as a reference at time t: only if it is still in the
 * ring and not one of the newest `skip` buckets at t (lo > hi otherwise, or when it saw no point). A bucket that is due to
 * leave the ring at the next point still counts.
 */
export function bucketRange(st: RecentRangeState, idx: number, t: number, p: RecentRangeParams): { lo: number; hi: number } {
  const out = { lo: Infinity, hi: -Infinity };
  widenByBucket(st, idx, t, p, out);
  return out;
}

/** Widens `out` by the range of bucket `idx` when it counts as a reference at t (bucketRange without the allocation). */
export function widenByBucket(st: RecentRangeState, idx: number, t: number, p: RecentRangeParams, out: { lo: number; hi: number }): void {
  const b = Math.floor(t / p.bucketMs);
  if (st.b < 0 || idx > st.b || idx <= st.b - p.slots || idx > b - p.skip) return;
  const s = ring(idx, p.slots);
  const [l, h] = bounds(st, s, p);
  if (l > h) return;
  if (l < out.lo) out.lo = l;
  if (h > out.hi) out.hi = h;
}

/**
 * Adds the point (t, x). Points come in time order; one older than the newest bucket is counted in the newest.
 * `evict` is told each bucket (index, lo, hi) that leaves the ring with data in it, oldest first.
 */
export function recentRangeAdd(st: RecentRangeState, t: number, x: number, p: RecentRangeParams, evict?: (idx: number, lo: number, hi: number) => void): void {
  let b = Math.floor(t / p.bucketMs);
  if (st.b >= 0 && b < st.b) b = st.b;
  if (st.b < 0 || b > st.b) {
    if (evict && st.b >= 0) {
      for (let idx = st.b - p.slots + 1; idx <= Math.min(st.b, b - p.slots); idx++) {
        const s = ring(idx, p.slots);
        const [l, h] = bounds(st, s, p);
        if (l <= h) evict(idx, l, h);
      }
    }
    // Empty the buckets entered since the newest (at most a whole ring).
    for (let i = st.b < 0 ? b - p.slots + 1 : Math.max(st.b + 1, b - p.slots + 1); i <= b; i++) {
      const s = ring(i, p.slots);
      st.lo[s] = 1;
      st.hi[s] = 0;
      if (st.c) st.c[s] = 0;
    }
    st.b = b;
  }
  const s = ring(b, p.slots);
  const l = st.lo[s] as number;
  const h = st.hi[s] as number;
  const min = p.robustMin ?? 0;
  if (min > 0) {
    // A state saved before these arrays: its buckets with points count as full, with their extremes as second
    // extremes (an upper bound: they read as before, and only tighten as points come).
    st.c ??= st.lo.map((lo, i) => (lo <= (st.hi[i] as number) ? min : 0));
    st.l2 ??= [...st.lo];
    st.h2 ??= [...st.hi];
    const c = l > h ? 0 : (st.c[s] as number);
    // Rounded only when stored (roundOut is the costly part of a point).
    if (c === 0) {
      st.l2[s] = roundOut(x, false);
      st.h2[s] = roundOut(x, true);
    } else {
      if (x < l) st.l2[s] = l;
      else if (c === 1 || x < (st.l2[s] as number)) st.l2[s] = roundOut(x, false);
      if (x > h) st.h2[s] = h;
      else if (c === 1 || x > (st.h2[s] as number)) st.h2[s] = roundOut(x, true);
    }
    st.c[s] = Math.min(min, c + 1);
  }
  if (l > h) {
    st.lo[s] = roundOut(x, false);
    st.hi[s] = roundOut(x, true);
    return;
  }
  if (x < l) st.lo[s] = roundOut(x, false);
  if (x > h) st.hi[s] = roundOut(x, true);
}
