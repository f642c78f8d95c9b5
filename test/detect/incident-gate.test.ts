import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detect/config.js';
import { thresholdForSensitivity } from '../../src/detect/config.js';
import type { PointVerdict } from '../../src/detect/detector.js';
import { epochMs } from '../../src/core/time.js';
import { replaySeries } from '../../src/nab/daemon-replay.js';
import { rng } from '../../src/nab/synthetic.js';

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const THRESHOLD = thresholdForSensitivity(0.5);

function run(periodMs: number, n: number, f: (i: number, r: () => number) => number, seed = 3): { values: number[]; verdicts: PointVerdict[]; state: unknown } {
  const det = createDetector({}, periodMs);
  const st = det.init();
  const r = rng(seed);
  const values: number[] = [];
  const verdicts: PointVerdict[] = [];
  for (let i = 0; i < n; i++) {
    const v = f(i, r);
    values.push(v);
    verdicts.push(det.update(st, epochMs(T0 + i * periodMs), v));
  }
  return { values, verdicts, state: st };
}

describe('practical significance: a point is anomalous only outside the range of the last day', () => {
  it('one 30 s timeout yesterday does not mute a 70 % latency regression today (the range is read without a bucket\'s single extreme)', () => {
    const periodMs = 60_000;
    const n = 3 * 1440;
    const at = 2 * 1440 + 15; // a day and a quarter of an hour after the timeout's minute
    const r = rng(4);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ts[i] = T0 + i * periodMs;
      const gauss = Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
      vs[i] = (0.25 + 0.02 * gauss) * (i >= at ? 1.7 : 1);
    }
    vs[1440] = 30; // one request hung until the load balancer's idle timeout
    const window = { start: ts[at - 5]!, end: ts[n - 1]! };
    const rep = replaySeries(ts, vs, periodMs, [window]);
    expect(rep.windowsHit).toBe(1);
    const first = rep.incidents.find((x) => x.inWindow);
    expect(first !== undefined && first.onset - ts[at]! <= 15 * periodMs).toBe(true);
  });

  it('a level shift beyond the recent range is caught at once, through the daemon path, at 1 min, 5 min and 1 h', () => {
    for (const [periodMs, days] of [[60_000, 5], [300_000, 14], [3_600_000, 60]] as const) {
      const n = Math.floor((days * DAY) / periodMs);
      const at = Math.floor(n * 0.7);
      const r = rng(9);
      const ts = new Float64Array(n);
      const vs = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        ts[i] = T0 + i * periodMs;
        vs[i] = 100 + (r() - 0.5) * 6 + (i >= at ? 25 : 0); // a lasting step up, four noise widths
      }
      const window = { start: ts[at - 5]!, end: ts[Math.min(n - 1, at + Math.round(DAY / periodMs / 4))]! };
      const rep = replaySeries(ts, vs, periodMs, [window]);
      expect(rep.windowsHit, `${periodMs / 60_000}-minute series`).toBe(1);
      expect(rep.incidents.filter((x) => !x.inWindow)).toEqual([]);
    }
  });

  it('a steadily growing series without anomaly (linear, exponential, growing daily cycle) never alarms', () => {
    const P = 300_000;
    const shapes: Array<(i: number, r: () => number) => number> = [
      (i, r) => 100 + 0.05 * i + (r() - 0.5) * 6,
      (i, r) => 100 * Math.exp(i / 2000) * (1 + (r() - 0.5) * 0.05),
      (i, r) => (100 + 0.05 * i) * (1 + 0.3 * Math.sin((2 * Math.PI * i) / 288)) + (r() - 0.5) * 6,
    ];
    for (const f of shapes) {
      const { verdicts } = run(P, 288 * 20, f);
      expect(verdicts.filter((v) => v.anomalous).length).toBe(0);
    }
  });

  it('a value the metric reached earlier today scores, but does not open anything; the same value beyond that range does', () => {
    // Five-minute data around 50 with one hour of normal 95s every day at 03:00 (a nightly batch job).
    const P = 300_000;
    const batch = (i: number): boolean => i % 288 >= 36 && i % 288 < 48;
    const base = (i: number, r: () => number): number => (batch(i) ? 95 : 50) + (r() - 0.5) * 4;
    // 05:00 on day 12, an hour after the batch: within the day's range and the same time of day's (± one 2-hour bucket;
    // incident-gate-tod.test.ts: the same hour at 12:30, once the metric has a week of history, opens)
    const at = 288 * 12 + 60;
    const inRange = run(P, at + 40, (i, r) => (i >= at && i < at + 12 ? 90 : base(i, r)));
    const beyond = run(P, at + 40, (i, r) => (i >= at && i < at + 12 ? 140 : base(i, r)));
    const hot = inRange.verdicts.slice(at, at + 12);
    expect(Math.max(...hot.map((v) => v.score))).toBeGreaterThanOrEqual(THRESHOLD); // the scorer finds it unusual …
    expect(hot.some((v) => v.anomalous)).toBe(false); // … but 90 is within today's (and 03:00–07:00's) 48–97: no incident
    expect(inRange.verdicts.slice(0, at).filter((v, i) => i > 288 && v.anomalous)).toEqual([]);
    expect(beyond.verdicts[at]!.anomalous).toBe(true);
    expect(beyond.verdicts[at]!.direction).toBe('up');
  });

  it('a sustained rise of a bursty count is anomalous although each point stays within the range of its bursts', () => {
    // Mostly 0–2 events per minute with rare bursts of ~10; then two hours at a steady ~8 (its half-hour mean is new).
    const P = 60_000;
    const at = 1440 * 4;
    const { values, verdicts } = run(P, at + 120, (i, r) => {
      const quiet = r() < 0.02 ? 8 + Math.floor(r() * 6) : Math.floor(r() * 2.2);
      return i >= at ? 7 + Math.floor(r() * 3) : quiet;
    });
    const dayMax = Math.max(...values.slice(at - 1440, at));
    expect(Math.max(...values.slice(at))).toBeLessThanOrEqual(dayMax);
    expect(verdicts.slice(at).some((v) => v.anomalous)).toBe(true);
  });

  it('the state stays small JSON (under 3 KB, its weekly reference included) on a one-minute series after two weeks', () => {
    const { state } = run(60_000, 1440 * 14, (i, r) => 1e6 * (1 + 0.2 * Math.sin((2 * Math.PI * i) / 1440)) + r() * 1e4);
    const json = JSON.stringify(state);
    expect(json.length).toBeLessThanOrEqual(3072);
    expect(JSON.parse(json)).toEqual(state);
  });
});
