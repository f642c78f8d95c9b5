/**
 * Seasonal baseline: a learned offset per time-of-day (daily: 24 hourly slots) or time-of-week
 * (weekly: 42 four-hour slots), relative to the robust level. Slots are UTC-aligned and updated with
 * clipped residuals, so a spike does not imprint itself on the season.
 *
 * 'auto' (the default) learns the daily slots on every series but applies them only as far as they explain the
 * series: it tracks the mean absolute residual with and without the offsets and weighs the offsets in once they
 * remove a clear share of it (a flat series, or one whose "season" is noise, is scored as if it had none).
 */
import type { EpochMs } from '../core/time.js';

export type Seasonality = 'none' | 'daily' | 'weekly' | 'auto';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const seasonSlots = (s: Seasonality): number => (s === 'daily' || s === 'auto' ? 24 : s === 'weekly' ? 42 : 0);

/** Length of one slot and of the whole cycle (ms). */
const slotMs = (s: Seasonality): number => (s === 'weekly' ? 4 * HOUR : HOUR);
const cycleMs = (s: Seasonality): number => (s === 'weekly' ? 7 * DAY : DAY);

/** Slot index of timestamp t (UTC). Weekly slots start on Thursday 00:00 UTC (the epoch's weekday); that is fine for a cycle. */
export function seasonSlot(s: Seasonality, t: EpochMs): number {
  if (s === 'daily' || s === 'auto') return Math.floor(t / HOUR) % 24;
  if (s === 'weekly') return Math.floor(t / (4 * HOUR)) % 42;
  return 0;
}

/** Memory of a slot's offset, in cycles (days or weeks), once that many cycles were seen. */
export const SEASON_MEMORY_CYCLES = 5;

/**
 * Learning rate of a slot's offset per visit, for a series with period `periodMs` after `n` points. The memory is in
 * cycles whatever the period (an hourly series visits a slot once a day, a one-minute series sixty times): an average
 * over the cycles seen so far at first, then SEASON_MEMORY_CYCLES cycles.
 */
export function seasonAlpha(s: Seasonality, periodMs: number, n: number): number {
  const visits = Math.max(1, slotMs(s) / periodMs); // visits of a slot per cycle
  const cycles = Math.floor((n * periodMs) / cycleMs(s));
  return 1 / (visits * Math.min(cycles + 1, SEASON_MEMORY_CYCLES));
}

/** 'auto': the share of the flat residual the offsets must remove before they start to count, and to count fully. */
export const AUTO_SEASON_FROM = 0.1;
export const AUTO_SEASON_FULL = 0.3;

/** Weight in [0, 1] of the offsets, from the mean absolute residuals without (flat) and with (seasonal) them. */
export function autoSeasonWeight(flat: number, seasonal: number): number {
  if (!(flat > 0)) return 0;
  const gain = 1 - seasonal / flat;
  const w = (gain - AUTO_SEASON_FROM) / (AUTO_SEASON_FULL - AUTO_SEASON_FROM);
  return w <= 0 ? 0 : w >= 1 ? 1 : w;
}
