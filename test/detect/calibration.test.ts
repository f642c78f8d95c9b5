import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detect/config.js';
import { epochMs } from '../../src/core/time.js';
import { scoreCorpus } from '../../src/nab/index.js';
import { replaySeries, summarizeReplays } from '../../src/nab/daemon-replay.js';
import { runDetector } from '../../src/nab/run-detector.js';
import { rng, syntheticSuite } from '../../src/nab/synthetic.js';
import { SUPPRESS_HOLD_MS } from '../../src/detect/adaptive-detector.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/** Scores of `n` points of noise at `periodMs`, with `edit` applied to the values. */
function scores(periodMs: number, n: number, edit: (i: number, v: number) => number, config = {}): number[] {
  const det = createDetector(config, periodMs);
  const st = det.init();
  const r = rng(11);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(det.update(st, epochMs(T0 + i * periodMs), edit(i, 100 + (r() - 0.5) * 4)).score);
  return out;
}

describe('calibration across sampling periods', () => {
  it('the same moderate deviation scores higher on an hourly series than on a one-minute one (tail probability per unit of time)', () => {
    // Ten points at the top of the usual range: no new record, a sustained shift only.
    const r = rng(4);
    const bump = (i: number, v: number): number => (i >= 800 && i < 810 ? 101.6 + r() * 0.3 : v);
    const peak = (p: number): number => Math.max(...scores(p, 1000, bump).slice(800, 812));
    expect(peak(HOUR)).toBeGreaterThan(peak(300_000));
    expect(peak(300_000)).toBeGreaterThan(peak(60_000));
  });

  it('a gross spike scores 1 whatever the period (spatial novelty is not rescaled)', () => {
    for (const p of [60_000, 300_000, HOUR]) expect(Math.max(...scores(p, 1000, (i, v) => (i === 800 ? 1000 : v)))).toBe(1);
  });

  it('suppression holds for a stretch of time, not of points: an hourly series alarms again after 12 hours', () => {
    const holdPts = SUPPRESS_HOLD_MS / HOUR; // 12 points
    const twice = (i: number, v: number): number => (i === 600 || i === 600 + holdPts + 2 ? 200 : v);
    const hourly = scores(HOUR, 1000, twice);
    expect(hourly[600]).toBe(1);
    expect(Math.max(...hourly.slice(600 + holdPts, 620))).toBeGreaterThan(0.5); // a 200-point hold silenced it for 8 days
    // Five-minute points: the second spike, 70 minutes later, is inside the hold (the same incident).
    const fiveMin = scores(300_000, 1000, twice);
    expect(fiveMin[600]).toBe(1);
    expect(Math.max(...fiveMin.slice(601, 620))).toBe(0);
  });
});

describe("seasonality 'auto'", () => {
  const daily = (i: number, periodMs: number, r: () => number): number => 100 + 80 * Math.sin((2 * Math.PI * (i * periodMs)) / (24 * HOUR)) + (r() - 0.5) * 6;

  it("on a strongly daily series it flags the daily mean at the trough hour, like 'daily'", () => {
    const P = 300_000;
    const target = 288 * 25 + 216; // 18:00 UTC on day 25, the trough
    for (const seasonality of ['daily', 'auto'] as const) {
      const det = createDetector({ seasonality }, P);
      const st = det.init();
      const r = rng(3);
      const at: number[] = [];
      for (let i = 0; i < 288 * 30; i++) {
        const v = i >= target && i < target + 12 ? 100 : daily(i, P, r);
        if (det.update(st, epochMs(T0 + i * P), v).anomalous) at.push(i);
      }
      expect(at).toContain(target);
      expect(at.length).toBeLessThanOrEqual(2);
    }
  });

  it("on a series without a daily cycle it gives exactly the verdicts of 'none'", () => {
    const edit = (i: number, v: number): number => (i === 3000 ? v + 40 : v);
    expect(scores(300_000, 5000, edit, { seasonality: 'auto' })).toEqual(scores(300_000, 5000, edit, { seasonality: 'none' }));
  });
});

describe('synthetic families (counters, rates, latencies, bursty, daily and weekly seasonal; 1 min, 5 min, 1 h)', () => {
  const suite = syntheticSuite();

  it('one threshold scores at least 78 (standard) over all families and periods', () => {
    const files = suite.map((s) => ({ key: s.name, timestamps: s.timestamps, windows: s.windows, scores: runDetector(createDetector({}, s.periodMs), s.timestamps, s.values).scores }));
    expect(scoreCorpus(files, 'standard').normalized).toBeGreaterThanOrEqual(78);
  });

  // The incident gate (practical significance: outside the last day's range) took false incidents from 5.1 to 1.3 per
  // 1,000 metric-days here; it costs the anomalies that stay inside a daily envelope the default detector (no seasonal
  // baseline) cannot model: recall 0.78 → 0.67 (the one-minute daily and weekly cases).
  it('through the daemon path: at most 2 false incidents per 1,000 metric-days, at least 65 % of injected anomalies found', () => {
    const s = summarizeReplays(suite.map((x) => replaySeries(x.timestamps, x.values, x.periodMs, x.windows)));
    expect(s.metric_days).toBeGreaterThan(700);
    expect(s.false_incidents_per_1000_metric_days).toBeLessThanOrEqual(2);
    expect(s.labeled_window_recall).toBeGreaterThanOrEqual(0.65);
  });
});
