/** NAB normalization (SCORING.md §8): 100 × (raw − raw_null) / (raw_perfect − raw_null). */
import type { Profile } from './profiles.js';

export function normalizeScore(raw: number, rawNull: number, windowCount: number, profile: Profile): number {
  const rawPerfect = windowCount * profile.tpWeight;
  return (100 * (raw - rawNull)) / (rawPerfect - rawNull);
}

/** The raw score of a detector that never fires: −fnWeight × #windows. */
export function nullRawScore(windowCount: number, profile: Profile): number {
  return -profile.fnWeight * windowCount;
}
