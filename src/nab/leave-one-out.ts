/**
 * Calibration checks for one threshold across kinds of series.
 *
 * Leave-one-group-out: for each group (a NAB category, a cloud-monitoring domain), the threshold is optimized on every
 * other file and the held-out group is scored at it. A detector whose scores mean the same on every kind of series
 * loses little against the group's own optimum; one whose best threshold moves from group to group loses a lot.
 */
import { scoreCorpus, type ScoredFile } from './corpus.js';
import type { ProfileName } from './profiles.js';

export interface GroupedFile extends ScoredFile {
  /** e.g. `nab/realAWSCloudwatch`, `cloudmon/data-ingress-rate`. */
  readonly group: string;
}

export interface HeldOutResult {
  readonly group: string;
  /** Threshold optimized on the other groups. */
  readonly threshold: number;
  /** Held-out group's normalized score at that threshold. */
  readonly heldOut: number;
  /** The group's score at its own optimized threshold (the ceiling), and that threshold. */
  readonly own: number;
  readonly ownThreshold: number;
}

/** One row per group that has labeled windows (a group without windows has no normalized score). */
export function leaveOneGroupOut(files: readonly GroupedFile[], profile: ProfileName = 'standard'): HeldOutResult[] {
  const groups = [...new Set(files.map((f) => f.group))];
  const out: HeldOutResult[] = [];
  for (const g of groups) {
    const held = files.filter((f) => f.group === g);
    const rest = files.filter((f) => f.group !== g);
    if (held.every((f) => f.windows.length === 0) || rest.length === 0) continue;
    const threshold = scoreCorpus(rest, profile).threshold;
    const own = scoreCorpus(held, profile);
    out.push({ group: g, threshold, heldOut: scoreCorpus(held, profile, threshold).normalized ?? NaN, own: own.normalized ?? NaN, ownThreshold: own.threshold });
  }
  return out;
}

/** Mean of the held-out scores (each group counts once, whatever its size). */
export const meanHeldOut = (rs: readonly HeldOutResult[]): number => (rs.length === 0 ? NaN : rs.reduce((n, r) => n + r.heldOut, 0) / rs.length);
