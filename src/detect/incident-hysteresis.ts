/**
 * Re-alarm hysteresis: after a metric has opened an incident, the values its excursion goes through (from the alarm
 * until the metric is back within its recent range) stay part of the reference for a week, although the range of
 * the last day (recent-range.ts) forgets them after a day.
 *
 * Why: a shift that persists, a daily peak that grew once, a batch job that ran once at a new height, is paged once.
 * Without this, the same excursion opens a new incident every time it recurs more than a day after the last one (the
 * daily range has forgotten it): on a week of data, one page a day for one change nobody needs to hear about again.
 * An excursion beyond the one already paged (clearly worse) still opens. The cost: a real incident that repeats, at
 * no greater height, an excursion paged earlier in the same week does not open a second time.
 * Kept as a ring of one (min, max) per day (RecentRangeState): a few hundred bytes of JSON, expiring day by day.
 */
import { initRecentRange, recentRange, recentRangeAdd, type RecentRangeParams, type RecentRangeState } from './recent-range.js';

export interface HysteresisState {
  /** Direction of the excursion followed since its alarm (1 up, −1 down), 0 when none. */
  dir: number;
  /** Extremes of the alarmed excursions (deseasonalized values, and their short mean), one (min, max) per day. */
  x: RecentRangeState;
  m: RecentRangeState;
}

/** A week and the current day, in one-day buckets: the same excursion recurring with a weekly cycle is covered too. */
export const HYSTERESIS: RecentRangeParams = { bucketMs: 86_400_000, slots: 8, skip: 0 };

export const initHysteresis = (): HysteresisState => ({ dir: 0, x: initRecentRange(HYSTERESIS), m: initRecentRange(HYSTERESIS) });

/** The ranges already paged for (values and short mean) as seen at time t; lo > hi when none. */
export function pagedRanges(st: HysteresisState, t: number): { x: { lo: number; hi: number }; m: { lo: number; hi: number } } {
  return { x: recentRange(st.x, t, HYSTERESIS), m: recentRange(st.m, t, HYSTERESIS) };
}

/**
 * Follows one point (deseasonalized value xs, short mean sm). An alarm starts or continues an excursion in its
 * direction; while the point stays material (outside the recent range) on that side of `expected`, its value and mean
 * are remembered; the first point that is not ends the excursion.
 */
export function hysteresisUpdate(st: HysteresisState, t: number, xs: number, sm: number, alarm: 'up' | 'down' | null, material: boolean, expected: number): void {
  if (alarm !== null) st.dir = alarm === 'up' ? 1 : -1;
  if (st.dir === 0) return;
  if (!material || (alarm === null && Math.sign(xs - expected) !== st.dir)) {
    st.dir = 0;
    return;
  }
  recentRangeAdd(st.x, t, xs, HYSTERESIS);
  recentRangeAdd(st.m, t, sm, HYSTERESIS);
}
