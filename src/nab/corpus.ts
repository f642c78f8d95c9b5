/**
 * Scoring a set of files (one category or a whole corpus): per-file sweeps at one threshold,
 * or the threshold optimized over the concatenation of all files (SCORING.md §6–§8).
 */
import { PROFILES, type Profile, type ProfileName } from './profiles.js';
import { entryAtThreshold, optimizeThreshold, sweep, type SweepEntry } from './sweep.js';
import { normalizeScore, nullRawScore } from './normalize.js';
import { NONE, PROBATIONARY, rowWeights, type Window } from './weights.js';

export interface ScoredFile {
  /** `<category>/<name>.csv`, the key in combined_windows.json. */
  readonly key: string;
  readonly timestamps: ArrayLike<number>;
  readonly windows: readonly Window[];
  /** The detector's anomaly_score column, one per data row. */
  readonly scores: ArrayLike<number>;
}

export interface FileResult {
  readonly key: string;
  readonly entry: SweepEntry;
}

export interface CorpusResult {
  readonly profile: ProfileName;
  readonly threshold: number;
  /** Sum of per-file scores at `threshold`. */
  readonly raw: number;
  readonly windowCount: number;
  /** null when the corpus has no windows (normalization is undefined). */
  readonly normalized: number | null;
  readonly files: readonly FileResult[];
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

function checkFile(f: ScoredFile): void {
  if (f.scores.length !== f.timestamps.length) {
    throw new Error(`${f.key}: ${f.scores.length} scores for ${f.timestamps.length} data rows`);
  }
}

/**
 * Scores files for one profile. With `threshold` undefined, the threshold is optimized over all files together
 * (NAB `--optimize`); otherwise that fixed threshold is used. `windowCount` defaults to the windows of `files`.
 */
export function scoreCorpus(
  files: readonly ScoredFile[],
  profileName: ProfileName,
  threshold?: number,
  windowCount?: number,
): CorpusResult {
  const profile: Profile = PROFILES[profileName];
  const perFile = files.map((f) => {
    checkFile(f);
    const { weights, labels } = rowWeights(f.timestamps, f.windows, profile);
    return { f, weights, labels };
  });
  let theta = threshold;
  if (theta === undefined) {
    const total = perFile.reduce((n, p) => n + p.labels.length, 0);
    const scores = new Float64Array(total);
    const weights = new Float64Array(total);
    const labels = new Int32Array(total);
    let off = 0;
    let winOff = 0;
    for (const p of perFile) {
      for (let i = 0; i < p.labels.length; i++) {
        const l = p.labels[i] as number;
        scores[off + i] = p.f.scores[i] as number;
        weights[off + i] = p.weights[i] as number;
        labels[off + i] = l === NONE || l === PROBATIONARY ? l : l + winOff;
      }
      off += p.labels.length;
      winOff += p.f.windows.length;
    }
    theta = optimizeThreshold(sweep({ scores, weights, labels }, profile)).threshold;
  }
  const results: FileResult[] = perFile.map((p) => ({
    key: p.f.key,
    entry: entryAtThreshold(sweep({ scores: p.f.scores, weights: p.weights, labels: p.labels }, profile), theta),
  }));
  let raw = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const r of results) {
    raw += r.entry.score;
    tp += r.entry.tp;
    fp += r.entry.fp;
    fn += r.entry.fn;
    tn += r.entry.tn;
  }
  const wc = windowCount ?? files.reduce((n, f) => n + f.windows.length, 0);
  const normalized = wc === 0 ? null : normalizeScore(raw, nullRawScore(wc, profile), wc, profile);
  return { profile: profileName, threshold: theta, raw, windowCount: wc, normalized, files: results, tp, fp, fn, tn };
}
