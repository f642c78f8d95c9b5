import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Deployment, MetricPoint, MetricQuery, MetricSeries, MetricSource, TimeRange } from '../../src/cloud/ports.js';
import { createLogger } from '../../src/core/logger.js';
import { DAY, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { StreamingDetector } from '../../src/detect/detector.js';
import type { WatchedMetric } from '../../src/policy/compile.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { DATAPOINTS_PER_CALL, QUERIES_PER_CALL, planMetricFetch } from '../../src/backtest/api-budget.js';
import { openBacktestWorld, parseWhen } from '../../src/backtest/backtest-world.js';
import { RecordedDeployments, RecordedMetrics, prefetchMetrics } from '../../src/backtest/recorded-sources.js';
import { episodes, suggestQuieter, type BacktestIncident, type MetricNoise } from '../../src/backtest/report.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { renderPlan, renderReport } from '../../src/backtest/render-report.js';

const t = (n: number): EpochMs => n as EpochMs;
const metric = (id: string, periodSec = 60, over: Partial<WatchedMetric['detector']> = {}): WatchedMetric =>
  ({
    id,
    service: 'svc',
    namespace: 'AWS/X',
    metricName: id,
    dimensions: {},
    stat: 'Sum',
    periodSec,
    detector: { kind: 'adaptive', direction: 'both', sensitivity: 0.5, minDuration: 1, warmup: 30, ...over },
  }) as WatchedMetric;

describe('planMetricFetch: the GetMetricData calls a backtest makes', () => {
  it('never exceeds 500 queries or 100,800 datapoints a call, and covers every metric over the whole range', () => {
    const metrics = [...Array.from({ length: 600 }, (_, i) => metric(`m${i}`, 60)), ...Array.from({ length: 30 }, (_, i) => metric(`f${i}`, 300))];
    const from = t(Date.parse('2026-11-01T00:00:00Z'));
    const to = t(from + 7 * DAY);
    const plan = planMetricFetch(metrics, from, to, to);
    for (const c of plan.calls) {
      expect(c.queries.length).toBeLessThanOrEqual(QUERIES_PER_CALL);
      const points = c.queries.reduce((n, q) => n + Math.ceil((c.end - c.start) / (q.periodSec * 1000)), 0);
      expect(points).toBeLessThanOrEqual(DATAPOINTS_PER_CALL);
    }
    for (const m of metrics) {
      const mine = plan.calls.filter((c) => c.queries.includes(m)).sort((a, b) => a.start - b.start);
      expect(mine[0]?.start).toBeLessThanOrEqual(from);
      expect(mine.at(-1)?.end).toBe(to);
      for (let i = 1; i < mine.length; i++) expect(mine[i]?.start).toBe(mine[i - 1]?.end);
    }
    // 500 one-minute metrics: 201 minutes a call → 51 calls; 100: 1,008 minutes → 10; 30 five-minute: 1 per 16,800 min → 1.
    expect(plan.calls.length).toBe(51 + 10 + 1);
    expect(plan.metricsRequested).toBe(51 * 500 + 10 * 100 + 30);
    expect(plan.usd).toBeCloseTo(plan.metricsRequested * 0.00001, 10);
  });

  it('flags metrics whose period CloudWatch no longer keeps back to --from', () => {
    const now = t(Date.parse('2026-12-01T00:00:00Z'));
    const plan = planMetricFetch([metric('minute', 60), metric('five', 300)], t(now - 20 * DAY), now, now);
    expect(plan.beyondRetention.map((b) => b.id)).toEqual(['minute']);
  });
});

describe('recorded sources: the replay sees the account as it stood at each cycle', () => {
  it('shows no point after the replay clock, and slices ranges exactly', async () => {
    let now = 10 * MINUTE;
    const points = new Map([['a', Array.from({ length: 20 }, (_, i) => ({ t: t(i * MINUTE), v: i }))]]);
    const src = new RecordedMetrics(points, () => now);
    const [s] = await src.fetch([metric('a')], { start: t(3 * MINUTE), end: t(100 * MINUTE) });
    expect(s?.points.map((p) => p.v)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    now = 15 * MINUTE;
    const [later] = await src.fetch([metric('a')], { start: t(14 * MINUTE), end: t(100 * MINUTE) });
    expect(later?.points.map((p) => p.v)).toEqual([14, 15]);
  });

  it('shows an execution still running at the replay time as InProgress, without its end', async () => {
    const d: Deployment = { id: 'e1', pipeline: 'p', status: 'Succeeded', startedAt: t(0), endedAt: t(20 * MINUTE), deployStartedAt: t(5 * MINUTE), deployEndedAt: t(15 * MINUTE) };
    let now = 10 * MINUTE;
    const src = new RecordedDeployments([d], () => now);
    const [running] = await src.list(['p'], { start: t(0), end: t(DAY) });
    expect(running?.status).toBe('InProgress');
    expect(running?.endedAt).toBeUndefined();
    expect(running?.deployEndedAt).toBeUndefined();
    now = 30 * MINUTE;
    expect((await src.list(['p'], { start: t(0), end: t(DAY) }))[0]).toEqual(d);
    expect(await src.list(['other'], { start: t(0), end: t(DAY) })).toEqual([]);
  });

  it('prefetch keeps each point once even when calls overlap at their edges', async () => {
    const source: MetricSource = {
      fetch: (qs: readonly MetricQuery[], r: TimeRange): Promise<MetricSeries[]> =>
        Promise.resolve(qs.map((q) => ({ id: q.id, points: [r.start, r.end].map((x) => ({ t: x, v: x })) }))),
    };
    const m = metric('a');
    const got = await prefetchMetrics(source, [{ queries: [m], start: t(0), end: t(MINUTE) }, { queries: [m], start: t(MINUTE), end: t(2 * MINUTE) }], AbortSignal.timeout(1000));
    expect(got.get('a')?.map((p) => p.t)).toEqual([0, MINUTE]);
  });
});

describe('parseWhen', () => {
  const now = t(Date.parse('2026-12-01T12:00:00Z'));
  it.each([
    ['now', now],
    ['now-7d', now - 7 * DAY],
    ['-90m', now - 90 * MINUTE],
    ['2026-11-02T08:00:00Z', Date.parse('2026-11-02T08:00:00Z')],
  ])('%s', (text, want) => expect(parseWhen(text, now)).toBe(want));
  it('refuses what is not a time, saying what it accepts', () => expect(() => parseWhen('yesterday', now)).toThrow(/ISO 8601.*now-7d/));
});

/** Anomalous whenever the value is above 10: the suggestion logic, independent of the real detector. */
const above10: StreamingDetector = {
  name: 'above10',
  init: () => ({}),
  update: (_s, _t, v) => ({ score: v !== null && v > 10 ? 1 : 0, anomalous: v !== null && v > 10, direction: v !== null && v > 10 ? 'up' : null, expected: 0 }),
};

describe('episodes and suggestions', () => {
  // A two-point blip every hour for a day, and one real 10-minute burst at 12:00.
  const series: MetricPoint[] = Array.from({ length: 24 * 60 }, (_, i) => {
    const blip = i % 60 === 30 || i % 60 === 31;
    const burst = i >= 720 && i < 730;
    return { t: t(i * MINUTE), v: blip || burst ? 50 : 1 };
  });

  it('counts runs of at least minPoints, one episode per group interval', () => {
    expect(episodes(above10, series, 1, 5 * MINUTE)).toHaveLength(25);
    expect(episodes(above10, series, 3, 5 * MINUTE)).toEqual([t(720 * MINUTE)]);
  });

  it('suggests the change that quiets a noisy metric and still catches the incident a deployment explains', () => {
    const m = metric('noisy', 60, { minDuration: 1 });
    const noise: MetricNoise[] = [{ id: 'noisy', service: 'svc', incidents: 25, selfCleared: 24, unexplained: 0, incidentsPerMetricDay: 25, likelyFalsePerMetricDay: 24 }];
    const incidents: BacktestIncident[] = [
      { id: 'i1', service: 'svc', onsetAt: t(720 * MINUTE), metrics: ['noisy'], state: 'expired', proposed: true, suspect: { pipeline: 'p', executionId: 'e', revision: null, score: 0.9, reasons: [] }, verdict: '', runbook: null },
    ];
    const s = suggestQuieter(noise, [m], new Map([['noisy', series]]), incidents, () => above10, { gapMs: 5 * MINUTE, matchMs: 10 * MINUTE, top: 5 });
    // Sensitivity cannot quiet a detector that ignores it; a longer minimum duration does.
    expect(s).toEqual([{ metricId: 'noisy', change: 'metrics[noisy].detector.minDuration: 3', episodesBefore: 25, episodesAfter: 1, explainedKept: 1, explainedTotal: 1 }]);
  });

  it('suggests nothing that would miss an incident a deployment explains', () => {
    const shortBurst = series.map((p, i) => (i >= 722 && i < 730 ? { ...p, v: 1 } : p)); // the burst is 2 points now
    const noise: MetricNoise[] = [{ id: 'noisy', service: 'svc', incidents: 25, selfCleared: 24, unexplained: 0, incidentsPerMetricDay: 25, likelyFalsePerMetricDay: 24 }];
    const incidents: BacktestIncident[] = [
      { id: 'i1', service: 'svc', onsetAt: t(720 * MINUTE), metrics: ['noisy'], state: 'expired', proposed: true, suspect: { pipeline: 'p', executionId: 'e', revision: null, score: 0.9, reasons: [] }, verdict: '', runbook: null },
    ];
    expect(suggestQuieter(noise, [metric('noisy')], new Map([['noisy', shortBurst]]), incidents, () => above10, { gapMs: 5 * MINUTE, matchMs: 10 * MINUTE, top: 5 })).toEqual([]);
  });
});

describe('runBacktest on the simulated cloud', () => {
  const policy = compilePolicy(loadPolicyFile('config/demo.yaml').policy, 'config/demo.yaml');

  it('replays the demo scenario and reports the incident, its suspect and reasons', async () => {
    const opened = openBacktestWorld(policy, t(Date.now()));
    const span = opened.span;
    if (!span) throw new Error('the demo policy runs on the simulated cloud');
    const { plan, report } = await runBacktest({ policy, world: opened.world, from: span.from, to: span.to, now: opened.now, logger: createLogger({ level: 'silent' }), signal: AbortSignal.timeout(60_000), confirm: () => true });
    expect(plan.metrics.calls.length).toBeGreaterThan(0);
    expect(renderPlan(plan)).toContain(`GetMetricData: 1 call, ${plan.metrics.metricsRequested} metrics requested, under $0.0001`);
    expect(renderPlan(plan)).toMatch(/ListPipelineExecutions for 2 pipelines /);
    expect(report?.incidents).toHaveLength(1);
    const inc = report?.incidents[0];
    expect(inc?.service).toBe('checkout');
    expect(inc?.suspect?.executionId).toBe('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(inc?.suspect?.reasons.length).toBeGreaterThan(0);
    expect(inc?.proposed).toBe(true);
    expect(['awaiting_approval', 'expired']).toContain(inc?.state);
    // As a person reads it: each reason on its own line, and the one that counted against the suspect says so.
    const text = report ? renderReport(report) : '';
    expect(text).toMatch(/^ {4}suspect: checkout-deploy 5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003 /m);
    expect(text).toMatch(/^ {6}- pipeline checkout-deploy deploys checkout$/m);
    expect(text).toMatch(/^ {6}- against it: the new log lines name payments, which released too/m);
    expect(text).not.toMatch(/because against/);
  });

  it('reads nothing when the plan is not confirmed', async () => {
    let calls = 0;
    const opened = openBacktestWorld(policy, t(Date.now()));
    const counting: MetricSource = { fetch: (q, r, s) => (calls++, opened.world.metrics.fetch(q, r, s)) };
    const span = opened.span;
    if (!span) throw new Error('sim');
    const out = await runBacktest({ policy, world: { ...opened.world, metrics: counting }, from: span.from, to: span.to, now: opened.now, logger: createLogger({ level: 'silent' }), signal: AbortSignal.timeout(10_000), confirm: () => false });
    expect(out.report).toBeNull();
    expect(calls).toBe(0);
  });

  it('cloudops backtest --json prints the report; a --to before --from fails clearly', () => {
    const ok = spawnSync(process.execPath, ['bin/cloudops.js', 'backtest', '--policy', 'config/demo.yaml', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout) as { incidents: { suspect: { executionId: string } | null }[] };
    expect(report.incidents[0]?.suspect?.executionId).toBe('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(ok.stderr).toContain('GetMetricData');
    const bad = spawnSync(process.execPath, ['bin/cloudops.js', 'backtest', '--policy', 'config/demo.yaml', '--from', '2026-11-02T09:00:00Z', '--to', '2026-11-02T08:00:00Z'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--to must be after --from');
  });
});
