/**
 * Validates the scorer against NAB's official outputs for the published detectors' realAWSCloudwatch results
 * (bench/nab/results/, copied from NAB v1.1): per-file scores and counts, chosen thresholds, normalized scores,
 * and the README scoreboard numbers to within 0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeScore, PROFILE_NAMES, PROFILES, rowWeights, scoreCorpus, type ProfileName, type ScoredFile } from '../../src/nab/index.js';
import { listCorpus, loadDataFile, loadResultScores, loadWindows, parseCsv, readText } from '../../src/nab/io.js';

const NAB = fileURLToPath(new URL('../../bench/nab/', import.meta.url));
const CATEGORY = 'realAWSCloudwatch';
const DETECTORS = ['numenta', 'contextOSE', 'twitterADVec', 'windowedGaussian', 'null'] as const;

/** README.md, realAWSCloudwatch (optimized) columns. */
const README: Record<string, Partial<Record<ProfileName, number>>> = {
  numenta: { standard: 73.4, reward_low_FP_rate: 68.7, reward_low_FN_rate: 76.7 },
  contextOSE: { standard: 72.1, reward_low_FP_rate: 67.7, reward_low_FN_rate: 75.8 },
  twitterADVec: { standard: 38.5, reward_low_FP_rate: 25.5 },
  windowedGaussian: { standard: 31.2 },
  null: { standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 },
};

const windows = loadWindows(join(NAB, 'labels/combined_windows.json'));
const entries = listCorpus(join(NAB, 'data')).filter((e) => e.category === CATEGORY);
const data = new Map(entries.map((e) => [e.key, loadDataFile(e.path)]));

function resultFiles(detector: string): ScoredFile[] {
  return entries.map((e) => ({
    key: e.key,
    timestamps: data.get(e.key)!.timestamps,
    windows: windows.get(e.key)!,
    scores: loadResultScores(join(NAB, `results/${detector}/${CATEGORY}/${detector}_${e.name}.csv.gz`)),
  }));
}
const results = new Map(DETECTORS.map((d) => [d, resultFiles(d)]));

type Mode = 'fixed_thresholds' | 'optimized_thresholds';
type Table<T> = Record<string, Record<ProfileName, T>>;
const expectedJson = <T,>(mode: Mode, file: string): Table<T> =>
  JSON.parse(readFileSync(join(NAB, 'results/expected', mode, file), 'utf8')) as Table<T>;
type Stored = { threshold: number; score: number };

function expectedScores(mode: Mode, detector: string, profile: ProfileName) {
  const { rows } = parseCsv(readFileSync(join(NAB, 'results/expected', mode, `${detector}_${profile}_scores.csv`), 'utf8'));
  return rows.map((r) => ({ file: r[2]!, threshold: r[3]!, score: Number(r[4]), tp: +r[5]!, tn: +r[6]!, fp: +r[7]!, fn: +r[8]!, total: +r[9]! }));
}

describe('NAB scorer validation on realAWSCloudwatch (published detectors)', () => {
  it('the category has 17 files and 30 windows', () => {
    expect(entries.length).toBe(17);
    expect(entries.reduce((n, e) => n + windows.get(e.key)!.length, 0)).toBe(30);
  });

  for (const mode of ['fixed_thresholds', 'optimized_thresholds'] as const) {
    describe(mode, () => {
      for (const profile of PROFILE_NAMES) {
        const rawNull = () => {
          const theta = expectedJson<Stored>(mode, 'thresholds.json').null![profile].threshold;
          return scoreCorpus(results.get('null')!, profile, theta).raw;
        };
        for (const detector of DETECTORS) {
          it(`${detector} ${profile}: per-file scores, counts, threshold and normalized score equal NAB's`, () => {
            const stored = expectedJson<Stored>(mode, 'thresholds.json')[detector]![profile];
            const res = scoreCorpus(results.get(detector)!, profile, mode === 'fixed_thresholds' ? stored.threshold : undefined);
            if (mode === 'optimized_thresholds') expect(res.threshold).toBe(stored.threshold);
            const exp = expectedScores(mode, detector, profile);
            const totals = exp.find((r) => r.file === '')!;
            for (const r of exp.filter((x) => x.file !== '')) {
              const mine = res.files.find((f) => f.key === r.file)!;
              expect(mine, r.file).toBeDefined();
              expect(Math.abs(mine.entry.score - r.score), r.file).toBeLessThan(1e-9);
              expect([mine.entry.tp, mine.entry.tn, mine.entry.fp, mine.entry.fn, mine.entry.total]).toEqual([r.tp, r.tn, r.fp, r.fn, r.total]);
            }
            expect(Math.abs(res.raw - totals.score)).toBeLessThan(1e-9);
            const normalized = normalizeScore(res.raw, rawNull(), 30, PROFILES[profile]);
            const official = expectedJson<number>(mode, 'final_results.json')[detector]![profile];
            expect(Math.abs(normalized - official)).toBeLessThan(1e-9);
            expect(Math.abs((res.normalized ?? NaN) - official)).toBeLessThan(1e-9);
            const readme = README[detector]?.[profile];
            if (mode === 'optimized_thresholds' && readme !== undefined) {
              expect(Math.abs(normalized - readme)).toBeLessThanOrEqual(0.1);
            }
          });
        }
      }
    });
  }

  it('a perfect detector (1 at the first row of every window) scores 100 in every profile', () => {
    const perfect = entries.map((e) => {
      const ts = data.get(e.key)!.timestamps;
      const starts = new Set(windows.get(e.key)!.map((w) => w.start));
      return { key: e.key, timestamps: ts, windows: windows.get(e.key)!, scores: Array.from(ts, (t) => (starts.has(t) ? 1 : 0)) };
    });
    for (const profile of PROFILE_NAMES) expect(scoreCorpus(perfect, profile).normalized).toBeCloseTo(100, 9);
  });

  it('per-row weights A(i) of all 17 files equal NAB\'s per_row_sweep (3 profiles)', () => {
    for (const e of entries) {
      const { rows, header } = parseCsv(readText(join(NAB, `results/expected/per_row_sweep/${e.name}.csv.gz`)));
      expect(rows.length).toBe(data.get(e.key)!.timestamps.length);
      for (const profile of PROFILE_NAMES) {
        const col = header.indexOf(`S(t)_${profile}`);
        const { weights, labels } = rowWeights(data.get(e.key)!.timestamps, windows.get(e.key)!, PROFILES[profile]);
        let maxDiff = 0;
        let labelMismatches = 0;
        rows.forEach((r, i) => {
          maxDiff = Math.max(maxDiff, Math.abs(weights[i]! - Number(r[col])));
          if ((labels[i]! === -2) !== (r[3] === '1') || (labels[i]! >= 0) !== (r[2] === '1')) labelMismatches++;
        });
        expect(maxDiff, `${e.name} ${profile}`).toBeLessThan(1e-12);
        expect(labelMismatches, `${e.name} ${profile}`).toBe(0);
      }
    }
  });
});
