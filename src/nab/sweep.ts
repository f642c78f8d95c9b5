/**
 * The threshold sweep, scoring at a threshold, and threshold optimization
 * (SCORING.md §5–§7, NAB `Sweeper.calcScoreByThreshold`, `scoreDataSet`, `optimizer.optimizeThreshold`).
 */
import { INITIAL_THRESHOLD, type Profile } from './profiles.js';
import { NONE, PROBATIONARY } from './weights.js';

/** Scorable and probationary points of one file or of a whole corpus (concatenated). */
export interface Points {
  readonly scores: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
  /** PROBATIONARY, NONE, or a window id unique within this point set. */
  readonly labels: ArrayLike<number>;
}

export interface SweepEntry {
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly total: number;
}

/** One entry per candidate threshold (1.1, then each distinct score, descending). */
export function sweep(points: Points, profile: Profile): SweepEntry[] {
  const idx: number[] = [];
  for (let i = 0; i < points.labels.length; i++) if (points.labels[i] !== PROBATIONARY) idx.push(i);
  const s = points.scores;
  idx.sort((a, b) => (s[b] as number) - (s[a] as number)); // stable: ties keep file order
  // parts: "fp" first, then windows in order of first appearance in the sorted list.
  const slot = new Map<number, number>();
  const parts: number[] = [0.0];
  let tn = 0;
  let fn = 0;
  for (const i of idx) {
    const l = points.labels[i] as number;
    if (l === NONE) tn++;
    else {
      fn++;
      if (!slot.has(l)) {
        slot.set(l, parts.length);
        parts.push(-profile.fnWeight);
      }
    }
  }
  let tp = 0;
  let fp = 0;
  const total = (): number => {
    let sum = 0;
    for (const p of parts) sum += p;
    return sum;
  };
  const out: SweepEntry[] = [];
  let cur = INITIAL_THRESHOLD;
  for (const i of idx) {
    const score = s[i] as number;
    if (score !== cur) {
      out.push({ threshold: cur, score: total(), tp, tn, fp, fn, total: tp + tn + fp + fn });
      cur = score;
    }
    const l = points.labels[i] as number;
    const a = points.weights[i] as number;
    if (l !== NONE) {
      tp++;
      fn--;
      const k = slot.get(l) as number;
      parts[k] = Math.max(parts[k] as number, a);
    } else {
      fp++;
      tn--;
      parts[0] = (parts[0] as number) + a;
    }
  }
  out.push({ threshold: cur, score: total(), tp, tn, fp, fn, total: tp + tn + fp + fn });
  return out;
}

/**
 * The sweep entry NAB picks for threshold θ (exact float comparisons). When θ is below every score
 * and equals none of them, NAB crashes; we return the last entry (everything detected), per SCORING.md §9.1.
 */
export function entryAtThreshold(entries: readonly SweepEntry[], threshold: number): SweepEntry {
  if (threshold > INITIAL_THRESHOLD) throw new Error(`threshold ${threshold} > ${INITIAL_THRESHOLD}`);
  let prev: SweepEntry | undefined;
  for (const e of entries) {
    if (e.threshold === threshold) return e;
    if (e.threshold < threshold) return prev as SweepEntry;
    prev = e;
  }
  const last = entries[entries.length - 1];
  if (last === undefined) throw new Error('empty sweep');
  return last;
}

/** Highest-scoring entry; ties go to the highest threshold (the earliest entry). */
export function optimizeThreshold(entries: readonly SweepEntry[]): { threshold: number; score: number } {
  let best: SweepEntry | undefined;
  for (const e of entries) if (best === undefined || e.score > best.score) best = e;
  if (best === undefined) throw new Error('empty sweep');
  return { threshold: best.threshold, score: best.score };
}
