import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  entryAtThreshold,
  MAX_TP,
  normalizeScore,
  nullRawScore,
  optimizeThreshold,
  PROFILE_NAMES,
  PROFILES,
  probationaryLength,
  rowWeights,
  scaledSigmoid,
  scoreCorpus,
  sweep,
  NONE,
  PROBATIONARY,
} from '../../src/nab/index.js';
import { parseNabTime } from '../../src/nab/io.js';

interface Entry { threshold: number; score: number; tp: number; tn: number; fp: number; fn: number; total: number }
interface Vectors {
  files: Record<string, { n: number; timestamps: string[]; anomaly_score: number[]; windows: [string, string][] }>;
  profiles: Record<string, {
    files: Record<string, {
      per_row: { row: number; sweepScore: number; windowName: string | null }[];
      scoresByThreshold: Entry[];
      scoreAtThreshold: Record<string, Entry>;
    }>;
    corpus_scoresByThreshold: Entry[];
    corpus_optimum: Entry;
    null_raw: number;
    perfect_raw: number;
    normalized: number;
  }>;
}

const vectors = JSON.parse(readFileSync(new URL('../../bench/nab/test-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** Thresholds and counts exactly; raw scores to 1e-13 (SCORING.md: independent implementations agree to ~4e-14). */
function expectEntries(actual: readonly Entry[], expected: readonly Entry[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect({ ...a, score: 0 }).toEqual({ ...e, score: 0 });
    expect(Math.abs(a.score - e.score)).toBeLessThan(1e-13);
  });
}

const fileInput = (key: string) => {
  const f = vectors.files[key]!;
  return {
    key,
    timestamps: f.timestamps.map(parseNabTime),
    windows: f.windows.map(([s, e]) => ({ start: parseNabTime(s), end: parseNabTime(e) })),
    scores: f.anomaly_score,
  };
};

describe('scaledSigmoid and constants (SCORING.md §2, §3)', () => {
  it('matches the documented values (to 1 ulp: glibc exp, used by NAB, is not always correctly rounded)', () => {
    const cases: [number, number][] = [
      [-1, 0.9866142981514305], [-0.5, 0.8482836399575131], [0, 0], [0.5, -0.848283639957513],
      [1, -0.9866142981514303], [3, -0.9999993881955461], [3.0001, -1], [10, -1],
    ];
    for (const [y, v] of cases) expect(Math.abs(scaledSigmoid(y) - v)).toBeLessThanOrEqual(2.3e-16);
    expect(scaledSigmoid(3.0001)).toBe(-1);
    expect(MAX_TP).toBe(0.9866142981514305);
  });
  it('probationary length follows min(floor(0.15 n), 750)', () => {
    expect(probationaryLength(4032)).toBe(604);
    expect(probationaryLength(4730)).toBe(709);
    expect(probationaryLength(1624)).toBe(243);
    expect(probationaryLength(22695)).toBe(750);
  });
});

describe.each(PROFILE_NAMES)('test-vectors.json, profile %s', (profileName) => {
  const pv = vectors.profiles[profileName]!;
  const profile = PROFILES[profileName];
  for (const key of Object.keys(vectors.files)) {
    const input = fileInput(key);
    const { weights, labels } = rowWeights(input.timestamps, input.windows, profile);
    const expected = pv.files[key]!;

    it(`${key}: per-row weights A(i) and labels equal NAB's`, () => {
      expected.per_row.forEach((r) => {
        // Within 1e-15: V8's and glibc's exp differ in the last ulp now and then (see src/nab/exact-exp.ts).
        expect(Math.abs(weights[r.row]! - r.sweepScore)).toBeLessThan(1e-15);
        const l = labels[r.row]!;
        if (r.windowName === 'probationary') expect(l).toBe(PROBATIONARY);
        else if (r.windowName === null) expect(l).toBe(NONE);
        else expect(`${key}|${vectors.files[key]!.windows[l]![0]}`).toBe(r.windowName);
      });
    });

    it(`${key}: sweep list equals NAB's, entry by entry`, () => {
      const out = sweep({ scores: input.scores, weights, labels }, profile);
      expectEntries(out, expected.scoresByThreshold);
    });

    it(`${key}: entry picked at each threshold (including between scores) equals NAB's`, () => {
      const out = sweep({ scores: input.scores, weights, labels }, profile);
      for (const [theta, entry] of Object.entries(expected.scoreAtThreshold)) {
        expectEntries([entryAtThreshold(out, Number(theta))], [entry]);
      }
    });
  }

  it('corpus optimum and normalized score equal NAB\'s', () => {
    const files = Object.keys(vectors.files).map(fileInput);
    const res = scoreCorpus(files, profileName);
    expect(res.threshold).toBe(pv.corpus_optimum.threshold);
    expect(res.raw).toBeCloseTo(pv.corpus_optimum.score, 12);
    expect(nullRawScore(res.windowCount, profile)).toBe(pv.null_raw);
    expect(res.windowCount * profile.tpWeight).toBe(pv.perfect_raw);
    expect(res.normalized).toBeCloseTo(pv.normalized, 10);
    expect(normalizeScore(pv.corpus_optimum.score, pv.null_raw, 2, profile)).toBeCloseTo(pv.normalized, 10);
  });

  it('optimizer breaks ties toward the highest threshold', () => {
    const entries = [
      { threshold: 1.1, score: -1, tp: 0, tn: 0, fp: 0, fn: 0, total: 0 },
      { threshold: 0.9, score: 2, tp: 0, tn: 0, fp: 0, fn: 0, total: 0 },
      { threshold: 0.5, score: 2, tp: 0, tn: 0, fp: 0, fn: 0, total: 0 },
    ];
    expect(optimizeThreshold(entries).threshold).toBe(0.9);
  });
});
