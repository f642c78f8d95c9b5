import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../src/cloud/ports.js';
import { DAY, HOUR, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { StreamingDetector } from '../../src/detect/detector.js';
import type { DaemonDetectorState } from '../../src/pipeline/detector-factory.js';
import type { MetricCursor } from '../../src/pipeline/observe.js';
import { observe } from '../../src/pipeline/observe.js';
import { BACKFILL_MIN_MS, learnHistory, planBackfill, retentionMs, USD_PER_METRIC_REQUESTED } from '../../src/pipeline/warm-start.js';
import type { WatchedMetric } from '../../src/policy/compile.js';
import { simHarness } from '../helpers/sim-harness.js';

const SCENARIO = 'test/fixtures/scenarios/e2e/warm-start-day-of-history.yaml';
const END = Date.parse('2026-11-02T06:00:00Z');
const metric = (id: string, periodSec = 60): { id: string; periodSec: number } => ({ id, periodSec });

describe('planBackfill (pure)', () => {
  it('asks for a week of 1-minute history in calls of at most 100,800 datapoints, each metric once', () => {
    const metrics = Array.from({ length: 21 }, (_, i) => metric(`m${i}`));
    const plan = planBackfill(metrics, END);
    // 10,080 points per metric: 10 metrics per call.
    expect(plan.calls.map((c) => c.metrics.length)).toEqual([10, 10, 1]);
    expect(plan.calls.every((c) => c.range.end === END && c.range.start === END - 7 * DAY)).toBe(true);
    expect(plan.metricsRequested).toBe(21);
    expect(plan.costUsd).toBeCloseTo(21 * USD_PER_METRIC_REQUESTED, 12);
  });

  it('never asks for more than CloudWatch keeps at the period', () => {
    expect(retentionMs(60)).toBe(15 * DAY);
    expect(retentionMs(300)).toBe(63 * DAY);
    expect(retentionMs(10)).toBe(3 * HOUR);
    const plan = planBackfill([metric('fine', 10), metric('coarse', 300)], END, 90 * DAY);
    expect(plan.spanMs.get(10)).toBe(3 * HOUR);
    expect(plan.spanMs.get(300)).toBe(63 * DAY);
  });

  it('shortens the span to stay within the call budget, but not below the minimum worth learning', () => {
    const metrics = Array.from({ length: 5000 }, (_, i) => metric(`m${i}`));
    const plan = planBackfill(metrics, END, 7 * DAY, 100);
    expect(plan.calls.length).toBeLessThanOrEqual(100);
    const span = plan.spanMs.get(60) ?? 0;
    expect(span).toBeLessThan(7 * DAY);
    expect(span).toBeGreaterThanOrEqual(BACKFILL_MIN_MS);
    expect(plan.calls.every((c) => c.metrics.length * (span / MINUTE) <= 100_800)).toBe(true);
  });
});

describe('learnHistory (pure)', () => {
  /** Counts the points it learned on the state it was given (a clone's count is dropped). */
  const counting: StreamingDetector<{ n: number }> = {
    name: 'count',
    init: () => ({ n: 0 }),
    update: (st, _t, v) => ((st.n += v === null ? 0 : 1), { score: 0, anomalous: false, direction: null, expected: 0 }),
  };
  const m = { id: 'x', service: 'checkout', periodSec: 60, detector: { warmup: 30 } } as unknown as WatchedMetric;
  const T = Date.parse('2026-11-02T00:00:00Z');
  const points: MetricPoint[] = Array.from({ length: 120 }, (_, i) => ({ t: (T + i * MINUTE) as EpochMs, v: 1 }));

  it('learns every point and continues from the last one', () => {
    const c = learnHistory({ detectorFor: () => counting }, m, points, []);
    expect((c.state as { n: number }).n).toBe(120);
    expect(c.learned).toBe(120);
    expect(c.lastT).toBe(T + 119 * MINUTE);
  });

  it('does not learn deploy windows once warm (as observe), so a regression in the history is not normal', () => {
    const freeze = { service: 'checkout', from: T + 60 * MINUTE, to: T + 80 * MINUTE, why: 'deploy d' };
    const c = learnHistory({ detectorFor: () => counting }, m, points, [freeze]);
    expect((c.state as { n: number }).n).toBe(100);
    expect(c.learned).toBe(100);
  });

  it('a metric with no history gets a fresh cursor (cold start)', () => {
    expect(learnHistory({ detectorFor: () => counting as StreamingDetector }, m, [], [])).toEqual({ lastT: null, run: 0, state: { n: 0 }, learned: 0 });
  });
});

describe('warm start on the simulated cloud', () => {
  const cycle = async (h: ReturnType<typeof simHarness>, deps = h.deps) => {
    h.clock.advance(MINUTE);
    return observe(deps, { now: h.clock.now(), deadline: (h.clock.now() + MINUTE) as EpochMs, signal: new AbortController().signal });
  };

  it('a metric with a day of history is learned before scoring: the cold-start guard is gone at the first cycle', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO }));
    await cycle(h);
    const cursors = await h.store.getValues<MetricCursor>(h.policy.metrics.map((m) => `detector:${m.id}`));
    const warm = cursors.get('detector:checkout5xx');
    expect(warm?.learned).toBeGreaterThan(22 * 60);
    expect((warm?.state as DaemonDetectorState).cold).toBeNull();
    await h.store.close();
  });

  it('a metric without history keeps the cold-start guard, and is not backfilled again next cycle', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO }));
    const ranges: number[] = [];
    // Backfill reads end where the cycle's own read (the poll window) begins.
    const deps = { ...h.deps, metrics: { fetch: (q: Parameters<typeof h.deps.metrics.fetch>[0], r: Parameters<typeof h.deps.metrics.fetch>[1], s: AbortSignal) => (r.end <= h.clock.now() - h.policy.windowMs && ranges.push(r.start), h.deps.metrics.fetch(q, r, s)) } };
    await cycle(h, deps);
    const backfills = ranges.length;
    expect(backfills).toBeGreaterThan(0);
    await cycle(h, deps);
    expect(ranges.length).toBe(backfills);
    const cursors = await h.store.getValues<MetricCursor>(h.policy.metrics.map((m) => `detector:${m.id}`));
    const other = h.policy.metrics.find((m) => m.service !== 'checkout');
    const cold = cursors.get(`detector:${other?.id ?? ''}`);
    expect(cold).toBeDefined();
    expect((cold?.state as DaemonDetectorState).cold).not.toBeNull();
    await h.store.close();
  });

  it('a failed history read does not fail the cycle: the metrics start cold, as without warm start', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO }));
    let fail = true;
    const windowStart = () => h.clock.now() - h.policy.windowMs;
    const deps = {
      ...h.deps,
      metrics: {
        fetch: (q: Parameters<typeof h.deps.metrics.fetch>[0], r: Parameters<typeof h.deps.metrics.fetch>[1], s: AbortSignal) => {
          if (fail && r.start < windowStart()) return Promise.reject(new Error('throttled'));
          return h.deps.metrics.fetch(q, r, s);
        },
      },
    };
    const events = await cycle(h, deps);
    expect(events.length).toBeGreaterThan(0);
    let cursors = await h.store.getValues<MetricCursor>(['detector:checkout5xx']);
    expect(cursors.get('detector:checkout5xx')?.learned).toBeLessThan(200);
    expect((cursors.get('detector:checkout5xx')?.state as DaemonDetectorState).cold).not.toBeNull();
    fail = false;
    await cycle(h, deps);
    cursors = await h.store.getValues<MetricCursor>(['detector:checkout5xx']);
    expect(cursors.get('detector:checkout5xx')?.lastT).toBe(h.clock.now() - MINUTE);
    await h.store.close();
  });
});
