import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDetector, detectorConfigSchema } from '../../src/detect/config.js';
import type { PointVerdict, StreamingDetector } from '../../src/detect/detector.js';
import { epochMs, type EpochMs } from '../../src/core/time.js';
import { listCorpus, loadDataFile } from '../../src/nab/io.js';

const PERIOD = 300_000;
const T0 = Date.UTC(2024, 0, 1);
const ts = (i: number): EpochMs => epochMs(T0 + i * PERIOD);

/** Deterministic noisy series (LCG), with optional edits. */
function series(n: number, seed = 7): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(50 + 10 * Math.sin((2 * Math.PI * i) / 288) + ((s / 2147483648) - 0.5) * 4);
  }
  return out;
}

function run(det: StreamingDetector, values: (number | null)[], state?: unknown): { verdicts: PointVerdict[]; state: unknown } {
  const st = state ?? det.init();
  const verdicts = values.map((v, i) => det.update(st, ts(i), v));
  return { verdicts, state: st };
}

const NAB_DATA = fileURLToPath(new URL('../../bench/nab/data', import.meta.url));

describe('adaptive detector (default config)', () => {
  it('has no look-ahead: changing future points does not change earlier verdicts', () => {
    const a = series(2000);
    const b = a.slice();
    for (let i = 1200; i < 2000; i++) b[i] = (b[i] as number) * 3 + 100;
    const va = run(createDetector({}, PERIOD), a).verdicts;
    const vb = run(createDetector({}, PERIOD), b).verdicts;
    expect(vb.slice(0, 1200)).toEqual(va.slice(0, 1200));
    expect(vb.slice(1200)).not.toEqual(va.slice(1200));
  });

  it('state round-trips through JSON and continuing from the parsed copy gives identical verdicts', () => {
    for (const seasonality of ['none', 'daily', 'weekly'] as const) {
      const det = createDetector({ seasonality }, PERIOD);
      const values = series(3000);
      values[2500] = 500;
      const whole = run(det, values).verdicts;
      const first = run(det, values.slice(0, 1500));
      const json = JSON.stringify(first.state);
      const parsed: unknown = JSON.parse(json);
      expect(JSON.stringify(parsed)).toBe(json);
      expect(parsed).toEqual(first.state);
      const st = parsed as object;
      const rest = values.slice(1500).map((v, i) => det.update(st, ts(1500 + i), v));
      expect([...first.verdicts, ...rest]).toEqual(whole);
    }
  });

  it('a persisted state of an older layout is re-initialized, not misread (verdicts match a fresh state)', () => {
    const det = createDetector({}, PERIOD);
    const old = {
      v: 1, dur: 0, seas: [],
      core: { n: 5000, lvl: 50, dev: 1, fast: 50, run: 0, am: 0.1, av: 0.01, as: 0.1, peak: 0, rec: 0.5 },
    };
    const values = series(1000);
    values[900] = 500;
    const fromOld = run(det, values, old);
    const fresh = run(det, values);
    expect(fromOld.verdicts).toEqual(fresh.verdicts);
    expect(fromOld.state).toEqual(fresh.state);
    expect(fresh.verdicts[900]!.anomalous).toBe(true);
  });

  // The change-point model (change-point.ts) adds about 0.5 KB, the re-alarm envelope
  // (incident-hysteresis.ts) six numbers, the incident gate's weekly reference (weekly-range.ts) 96 numbers, about 0.7 KB;
  // the 42 weekly slots about 0.8 KB.
  it('keeps its state within 3 KB of JSON without seasonality and 4 KB with weekly seasonality, after 20,000 points', () => {
    for (const [seasonality, limit] of [['none', 3072], ['daily', 4096], ['weekly', 4096]] as const) {
      const det = createDetector({ seasonality }, PERIOD);
      const values = series(20_000).map((v, i) => (i % 997 === 0 ? v * 1e6 / 3 : v));
      const { state } = run(det, values);
      expect(JSON.stringify(state).length, seasonality).toBeLessThanOrEqual(limit);
    }
  });

  it('flags a large spike after warm-up, in the right direction, and scores stay in [0, 1]', () => {
    const values = series(2000);
    values[1500] = 200;
    const { verdicts } = run(createDetector({}, PERIOD), values);
    expect(verdicts[1500]!.anomalous).toBe(true);
    expect(verdicts[1500]!.direction).toBe('up');
    for (const v of verdicts) {
      expect(v.score).toBeGreaterThanOrEqual(0);
      expect(v.score).toBeLessThanOrEqual(1);
    }
    expect(verdicts.filter((v) => v.anomalous).length).toBeLessThan(10);
  });

  it('direction filter: "up" ignores a drop, "down" ignores a spike', () => {
    const values = series(2000);
    values[1500] = -100;
    values[1800] = 200;
    const up = run(createDetector({ direction: 'up' }, PERIOD), values).verdicts;
    const down = run(createDetector({ direction: 'down' }, PERIOD), values).verdicts;
    const both = run(createDetector({ direction: 'both' }, PERIOD), values).verdicts;
    expect(both[1500]!.anomalous).toBe(true);
    expect(up[1500]!.anomalous).toBe(false);
    expect(up[1500]!.score).toBe(0);
    expect(down[1500]!.anomalous).toBe(true);
    expect(down[1500]!.direction).toBe('down');
    expect(down[1800]!.anomalous).toBe(false);
  });

  it('direction "up": an ignored drop does not suppress a spike that follows it', () => {
    const values = series(2000);
    values[1500] = -100;
    values[1550] = 200;
    const up = run(createDetector({ direction: 'up' }, PERIOD), values).verdicts;
    expect(up[1500]!.anomalous).toBe(false);
    expect(up[1550]!.anomalous).toBe(true);
    // With both sides watched, a drop that lasted (confirmed by the next point) holds the metric: the spike belongs to
    // the same incident. A one-point drop opens nothing (grouping needs a second point), so it holds nothing.
    const lasting = [...values];
    lasting[1501] = -100;
    const both = run(createDetector({ direction: 'both' }, PERIOD), lasting).verdicts;
    expect(both[1500]!.anomalous).toBe(true);
    expect(both[1550]!.anomalous).toBe(false);
    const blip = run(createDetector({ direction: 'both' }, PERIOD), values).verdicts;
    expect(blip[1500]!.anomalous).toBe(true);
    expect(blip[1550]!.anomalous).toBe(true);
  });

  it('warm-up: no anomalous verdicts and score 0 during the first `warmup` points', () => {
    const values = series(400);
    values[100] = 1000;
    const v = run(createDetector({ warmup: 200 }, PERIOD), values).verdicts;
    expect(v.slice(0, 200).every((x) => !x.anomalous && x.score === 0)).toBe(true);
  });

  it('missing data: ignore / notBreaching skip the point, breaching alarms, zero feeds 0', () => {
    const values: (number | null)[] = series(1000);
    values[900] = null;
    const ignore = run(createDetector({ missing: 'ignore' }, PERIOD), values).verdicts;
    expect(ignore[900]).toMatchObject({ score: 0, anomalous: false });
    const ref = run(createDetector({}, PERIOD), values.filter((_, i) => i !== 900)).verdicts;
    // Skipping the missing point leaves the following verdicts identical to the series without it.
    expect(ignore.slice(901).map((v) => v.score)).toEqual(ref.slice(900).map((v) => v.score));
    const breaching = run(createDetector({ missing: 'breaching' }, PERIOD), values).verdicts;
    expect(breaching[900]).toMatchObject({ score: 1, anomalous: true });
    const zero = run(createDetector({ missing: 'zero' }, PERIOD), values).verdicts;
    expect(zero[900]!.anomalous).toBe(true);
    expect(zero[900]!.direction).toBe('down');
    const nb = run(createDetector({ missing: 'notBreaching', minDuration: 2 }, PERIOD), [...series(999), null]).verdicts;
    expect(nb[999]).toMatchObject({ score: 0, anomalous: false });
  });

  it('minDuration: a 1-point spike does not alarm with minDuration 3; a 10-point excursion does, from its 3rd point on', () => {
    const values = series(2000);
    values[1500] = 300;
    for (let i = 1800; i < 1810; i++) values[i] = 300 + i;
    const v1 = run(createDetector({}, PERIOD), values).verdicts;
    const v3 = run(createDetector({ minDuration: 3 }, PERIOD), values).verdicts;
    const at = (v: PointVerdict[]) => v.flatMap((x, i) => (x.anomalous ? [i] : []));
    // minDuration 1: one alarm per incident (suppression), at the first point of each.
    expect(at(v1)).toEqual([1500, 1800]);
    // minDuration 3: the spike is gone after one point; the excursion alarms once it has lasted 3 points, and stays
    // anomalous while it lasts (every point of the run counts, so suppression does not apply).
    const a3 = at(v3);
    expect(a3.length).toBeGreaterThan(0);
    expect(a3[0]).toBeGreaterThanOrEqual(1802);
    expect(a3.every((i) => i >= 1802 && i < 1810)).toBe(true);
    expect(a3).toEqual(Array.from({ length: 1810 - (a3[0] as number) }, (_, k) => (a3[0] as number) + k));
    for (const i of a3) expect(v3[i]!.direction).toBe('up');
  });

  it('minDuration: a sustained level shift alarms after minDuration points; a lone spike never does', () => {
    const values = series(3000);
    values[1200] = 400;
    for (let i = 2000; i < 3000; i++) values[i] = (values[i] as number) - 60;
    for (const minDuration of [2, 5]) {
      const v = run(createDetector({ minDuration }, PERIOD), values).verdicts;
      const first = v.findIndex((x) => x.anomalous);
      expect(first).toBeGreaterThanOrEqual(2000 + minDuration - 1);
      expect(first).toBeLessThan(2000 + minDuration + 5);
      expect(v[first]!.direction).toBe('down');
      expect(v.slice(1190, 1300).some((x) => x.anomalous)).toBe(false);
    }
  });

  const alarmsAfterProbation = (file: string): number => {
    const d = loadDataFile(join(NAB_DATA, 'artificialNoAnomaly', `${file}.csv`));
    const det = createDetector({}, PERIOD);
    const st = det.init();
    let alarms = 0;
    const probation = Math.min(Math.floor(0.15 * d.values.length), 750);
    for (let i = 0; i < d.values.length; i++) {
      const v = det.update(st, epochMs(d.timestamps[i]!), d.values[i]!);
      if (i >= probation && v.anomalous) alarms++;
    }
    return alarms;
  };

  it('artificialNoAnomaly (NAB): no anomalous verdict after probation on 4 of the 5 clean series', () => {
    expect(listCorpus(NAB_DATA).filter((e) => e.category === 'artificialNoAnomaly').length).toBe(5);
    for (const f of ['art_daily_no_noise', 'art_daily_small_noise', 'art_flatline', 'art_noisy']) {
      expect(alarmsAfterProbation(f), f).toBe(0);
    }
  });

  // The square wave's periodic jumps are routine for that series: the anomaly likelihood learns them.
  it('artificialNoAnomaly (NAB): no anomalous verdict on art_daily_perfect_square_wave', () => {
    expect(alarmsAfterProbation('art_daily_perfect_square_wave')).toBe(0);
  });
});

describe('config schema', () => {
  it('applies the documented defaults and rejects unknown fields', () => {
    expect(detectorConfigSchema.parse({})).toEqual({
      direction: 'both', sensitivity: 0.5, minDuration: 1, warmup: 30, seasonality: 'none', missing: 'ignore', kind: 'adaptive',
    });
    expect(() => detectorConfigSchema.parse({ bogus: 1 })).toThrow();
    expect(() => detectorConfigSchema.parse({ kind: 'static' })).toThrow();
    expect(createDetector({}, PERIOD).name).not.toContain('_');
  });
});
