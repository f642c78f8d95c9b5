/**
 * Seasonal baseline: a learned offset per time-of-day (daily: 24 hourly slots) or time-of-week
 * (weekly: 42 four-hour slots), relative to the robust level. Slots are UTC-aligned and updated with
 * clipped residuals, so a spike does not imprint itself on the season.
 */
import type { EpochMs } from '../core/time.js';

export type Seasonality = 'none' | 'daily' | 'weekly';

const HOUR = 3_600_000;

export const seasonSlots = (s: Seasonality): number => (s === 'daily' ? 24 : s === 'weekly' ? 42 : 0);

/** Slot index of timestamp t (UTC). Weekly slots start on Thursday 00:00 UTC (the epoch's weekday); that is fine for a cycle. */
export function seasonSlot(s: Seasonality, t: EpochMs): number {
  if (s === 'daily') return Math.floor(t / HOUR) % 24;
  if (s === 'weekly') return Math.floor(t / (4 * HOUR)) % 42;
  return 0;
}

/** Learning rate of a slot's offset per visit. */
export const SEASON_ALPHA = 0.05;
