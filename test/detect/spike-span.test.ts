import { describe, expect, it } from 'vitest';
import { epochMs } from '../../src/core/time.js';
import { createDetector } from '../../src/detect/config.js';
import { spikePoints } from '../../src/detect/adaptive-detector.js';
import { DEFAULT_NOVELTY, initNovelty, noveltyUpdate, type NoveltyOut, type NoveltyParams } from '../../src/detect/novelty-core.js';
import { replaySeries, summarizeReplays } from '../../src/nab/daemon-replay.js';
import { rng, syntheticSuite } from '../../src/nab/synthetic.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const MIN = 60_000;

/**
 * An hourly crash rate: mostly near 0.04, a spike to 0.5–0.9 for an hour or two every couple of days, one large
 * incident (3.0) on day 10, and the hour under test at `probe`: 1.5, within the range seen (no new record), above the
 * routine spikes.
 */
function crashRate(n: number, probe: number): number[] {
  const r = rng(7);
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0.04 * (0.5 + r());
    if (i % 47 === 20 || i % 47 === 21) v = 0.5 + 0.4 * r();
    if (i >= 240 && i < 243) v = 3;
    xs.push(v);
  }
  xs[probe] = 1.5;
  return xs;
}

function coreScores(p: NoveltyParams, xs: readonly number[]): { scores: number[]; st: ReturnType<typeof initNovelty> } {
  const st = initNovelty(p);
  const out: NoveltyOut = { score: 0, raw: 0, z: 0, expected: 0, scale: 0 };
  const scores: number[] = [];
  for (const x of xs) {
    noveltyUpdate(st, x, p, out);
    scores.push(out.raw);
  }
  return { scores, st };
}

describe('spike channels span the reference time, not a count of points', () => {
  it('spikePoints: ten points at one and five minutes, one at an hour, two at thirty minutes, never below one', () => {
    expect(spikePoints(10, MIN)).toBe(10);
    expect(spikePoints(10, 5 * MIN)).toBe(10);
    expect(spikePoints(10, 30 * MIN)).toBe(2);
    expect(spikePoints(10, HOUR)).toBe(1);
    expect(spikePoints(10, 24 * HOUR)).toBe(1);
  });

  it('a one-hour crash spike in an hourly series alarms; averaged over ten hours it scored like the noise', () => {
    const probe = 600; // hour 600: not on a routine spike hour (600 % 47 = 36), long after the day-10 incident
    const xs = crashRate(700, probe);
    const hourly = (spikeShort?: number): NoveltyParams => ({ ...DEFAULT_NOVELTY, suppressHold: 12, lnRate: 2 * Math.log(300_000 / HOUR), ...(spikeShort ? { spikeShort } : {}) });
    const now = coreScores(hourly(spikePoints(10, HOUR)), xs).scores[probe] as number;
    const before = coreScores(hourly(), xs).scores[probe] as number;
    expect(now).toBeGreaterThan(0.7); // the default alarm threshold (sensitivity 0.5)
    expect(before).toBeLessThan(0.6);
    // And through the detector the daemon builds for an hourly metric.
    const det = createDetector({}, HOUR);
    const st = det.init();
    const v = xs.map((x, i) => det.update(st, epochMs(T0 + i * HOUR), x));
    expect(v[probe]?.anomalous).toBe(true);
  });

  it('a five-minute series scores exactly as before (spikeShort = short), and the state keeps its meaning', () => {
    const r = rng(3);
    const xs = Array.from({ length: 1500 }, (_, i) => 100 + (r() - 0.5) * 4 + (i === 1200 ? 12 : 0));
    const a = coreScores({ ...DEFAULT_NOVELTY, spikeShort: spikePoints(10, 5 * MIN) }, xs);
    const b = coreScores(DEFAULT_NOVELTY, xs);
    expect(a.scores).toEqual(b.scores);
    // The running sums stay over `short` points whatever spikeShort is: a state persisted by another build reads alike.
    const c = coreScores({ ...DEFAULT_NOVELTY, spikeShort: 1 }, xs);
    expect(c.st.sum).toEqual(b.st.sum);
    expect(c.st.ring).toEqual(b.st.ring);
    expect(c.scores).not.toEqual(b.scores);
  });

  it('the shift and value channels keep ten points: clean hourly synthetic series (heavy-tailed latency, bursty counts) page nothing', () => {
    const hourly = syntheticSuite().filter((s) => s.periodMs === HOUR && s.windows.length === 0);
    expect(hourly.length).toBeGreaterThanOrEqual(6);
    const sum = summarizeReplays(hourly.map((s) => replaySeries(s.timestamps, s.values, s.periodMs, s.windows)));
    expect(sum.false_incidents).toBe(0);
  });
});

describe('a state learned with ten-point spike averages (an older build) read by an hourly detector', () => {
  it('scales the spike channels\' long-run variance by the change of span once, and scores on without re-learning', () => {
    const xs = crashRate(700, 600);
    // An hourly series learned with ten-point spike averages: the five-minute detector's core keeps spikeShort = 10.
    const old = createDetector({}, 5 * MIN);
    const st = old.init() as { sp?: number; core: { lv: number[]; n: number } };
    for (let i = 0; i < 500; i++) old.update(st, epochMs(T0 + i * HOUR), xs[i] as number);
    delete st.sp; // persisted before the field existed
    const lv = [...st.core.lv];
    const n = st.core.n;
    const det = createDetector({}, HOUR);
    det.update(st, epochMs(T0 + 500 * HOUR), xs[500] as number);
    expect(st.core.n).toBe(n + 1); // not re-initialized
    expect(st.sp).toBe(1);
    // One update after the rescale moves the moments by at most the 1/5,000 learning rate.
    expect((st.core.lv[0] as number) / (lv[0] as number)).toBeGreaterThan(9.9);
    expect((st.core.lv[1] as number) / (lv[1] as number)).toBeGreaterThan(9.9);
    expect(st.core.lv[2]).toBeCloseTo(lv[2] as number, 3);
    // A second update does not scale again.
    const lv2 = [...st.core.lv];
    det.update(st, epochMs(T0 + 501 * HOUR), xs[501] as number);
    expect((st.core.lv[0] as number) / (lv2[0] as number)).toBeLessThan(1.01);
  });
});
