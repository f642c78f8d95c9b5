/**
 * Re-alarm hysteresis: after a metric has opened an incident, the values its excursion goes through (from the alarm
 * until the metric is back within its recent range) stay part of the reference for a week after the excursion's last
 * point, although the range of the last day (recent-range.ts) forgets them after a day.
 *
 * Why: a shift that persists, a daily peak that grew once, a batch job that ran once at a new height, is paged once.
 * Without this, the same excursion opens a new incident every time it recurs more than a day after the last one (the
 * daily range has forgotten it): on a week of data, one page a day for one change nobody needs to hear about again.
 * An excursion beyond the one already paged (clearly worse) still opens. The cost: a real incident that repeats, at
 * no greater height, an excursion paged earlier in the same week does not open a second time. An alarm the next point
 * does not confirm (a one-point blip, which opens nothing) is forgotten (alarm-confirm.ts).
 * Six short numbers of JSON (the state's short keys and whole hours keep it within its 2 KB); bounds rounded outward to 4 significant digits, as in recent-range.ts.
 */
import { roundOut } from './recent-range.js';

export interface HysteresisState {
  /** Direction of the excursion followed since its alarm (1 up, −1 down), 0 when none. */
  d: number;
  /** Hour (floor(t / 1 h)) after which the remembered ranges no longer count; 0 when nothing is remembered. */
  u: number;
  /** [min, max] of the alarmed excursions' deseasonalized values, then [min, max] of their short mean. */
  r: [number, number, number, number];
}

/** A week: the same excursion recurring with a weekly cycle is covered too. */
export const HYSTERESIS_HOLD_MS = 7 * 86_400_000;

const HOUR_MS = 3_600_000;

export const initHysteresis = (): HysteresisState => ({ d: 0, u: 0, r: [1, 0, 1, 0] });

const EMPTY = { lo: 1, hi: 0 } as const;

/** The ranges already paged for (values and short mean) as seen at time t; lo > hi when none. */
export function pagedRanges(st: HysteresisState, t: number): { x: { lo: number; hi: number }; m: { lo: number; hi: number } } {
  if (Math.floor(t / HOUR_MS) > st.u) return { x: EMPTY, m: EMPTY };
  return { x: { lo: st.r[0], hi: st.r[1] }, m: { lo: st.r[2], hi: st.r[3] } };
}

const extend = (r: number[], i: number, v: number, fresh: boolean): void => {
  if (fresh || v < (r[i] as number)) r[i] = roundOut(v, false);
  if (fresh || v > (r[i + 1] as number)) r[i + 1] = roundOut(v, true);
};

/**
 * Follows one point (deseasonalized value xs, short mean sm). An alarm starts or continues an excursion in its
 * direction; while the point stays material (outside the recent range) on that side of `expected`, its value and mean
 * are remembered for HYSTERESIS_HOLD_MS; the first point that is not ends the excursion.
 */
export function hysteresisUpdate(st: HysteresisState, t: number, xs: number, sm: number, alarm: 'up' | 'down' | null, material: boolean, expected: number): void {
  if (alarm !== null) st.d = alarm === 'up' ? 1 : -1;
  if (st.d === 0) return;
  if (!material || (alarm === null && Math.sign(xs - expected) !== st.d)) {
    st.d = 0;
    return;
  }
  const fresh = Math.floor(t / HOUR_MS) > st.u;
  extend(st.r, 0, xs, fresh);
  extend(st.r, 2, sm, fresh);
  st.u = Math.ceil((t + HYSTERESIS_HOLD_MS) / HOUR_MS);
}
