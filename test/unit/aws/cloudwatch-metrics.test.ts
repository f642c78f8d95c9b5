import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { alignRange, bandVerdict, chunkQueries, CloudWatchMetricSource, type MetricIssue } from '../../../src/cloud/aws/cloudwatch-metrics.js';
import type { MetricQuery } from '../../../src/cloud/ports.js';
import { RateLimiter } from '../../../src/cloud/aws/rate-limiter.js';
import type { EpochMs } from '../../../src/core/time.js';

const cw = mockClient(CloudWatchClient);
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const MIN = 60_000;
const range = { start: (T0 + 7_000) as EpochMs, end: (T0 + 10 * MIN + 30_000) as EpochMs };
const q = (id: string, extra: Partial<MetricQuery> = {}): MetricQuery => ({ id, service: 'api', namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimensions: { LoadBalancer: 'app/x/1' }, stat: 'p99', periodSec: 60, ...extra });
const at = (m: number): Date => new Date(T0 + m * MIN);
const fastLimiter = (): RateLimiter => new RateLimiter(1000, 1000);

describe('CloudWatchMetricSource (mocked client)', () => {
  beforeEach(() => cw.reset());

  it('sends aligned start/end, ascending scan, extended statistics and metric math as CloudWatch expects', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter() });
    await src.fetch([q('p99lat'), q('tm', { stat: 'TM(10%:90%)' }), q('ratio', { expression: 'p99lat / tm', namespace: '', metricName: '' })], range, AbortSignal.timeout(5000));
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(at(0));
    expect(input.EndTime).toEqual(at(10));
    expect(input.ScanBy).toBe('TimestampAscending');
    expect(input.MetricDataQueries![0]).toMatchObject({ Id: 'p99lat', MetricStat: { Stat: 'p99', Period: 60, Metric: { Dimensions: [{ Name: 'LoadBalancer', Value: 'app/x/1' }] } } });
    expect(input.MetricDataQueries![1]!.MetricStat!.Stat).toBe('TM(10%:90%)');
    expect(input.MetricDataQueries![2]).toMatchObject({ Id: 'ratio', Expression: 'p99lat / tm' });
  });

  it('follows NextToken with identical queries and merges the pages in time order', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'a', Timestamps: [at(0), at(1)], Values: [1, 2], StatusCode: 'PartialData' }], NextToken: 'p2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'a', Timestamps: [at(3)], Values: [4], StatusCode: 'Complete' }] });
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter() });
    const [s] = await src.fetch([q('a')], range, AbortSignal.timeout(5000));
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.NextToken).toBe('p2');
    expect(calls[1]!.MetricDataQueries).toEqual(calls[0]!.MetricDataQueries);
    expect(calls[1]!.StartTime).toEqual(calls[0]!.StartTime);
    // Minute 2 is missing: a gap, not a zero.
    expect(s).toEqual({ id: 'a', points: [{ t: T0, v: 1 }, { t: T0 + MIN, v: 2 }, { t: T0 + 3 * MIN, v: 4 }] });
  });

  it('marks a series partial when PartialData comes without a further page, and reports it', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'a', Timestamps: [at(0)], Values: [1], StatusCode: 'PartialData' }, { Id: 'b', Timestamps: [], Values: [], StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access to namespace' }] }] });
    const issues: MetricIssue[] = [];
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter(), onIssue: (i) => issues.push(i) });
    const out = await src.fetch([q('a'), q('b')], range, AbortSignal.timeout(5000));
    expect(out).toEqual([{ id: 'a', points: [{ t: T0, v: 1 }], partial: true }, { id: 'b', points: [], partial: true }]);
    expect(issues.map((i) => `${i.queryId}:${i.code}`).sort()).toEqual(['a:PartialData', 'b:Forbidden']);
  });

  it('drops NaN values and the bucket still in progress, and keeps zeros', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'a', Timestamps: [at(0), at(1), at(2), at(9), at(10)], Values: [0, Number.NaN, 3, 9, 10], StatusCode: 'Complete' }] });
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter() });
    const [s] = await src.fetch([q('a')], range, AbortSignal.timeout(5000));
    expect(s!.points).toEqual([{ t: T0, v: 0 }, { t: T0 + 2 * MIN, v: 3 }, { t: T0 + 9 * MIN, v: 9 }]);
  });

  it('maps throttling to a TransientError naming GetMetricData', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter() });
    await expect(src.fetch([q('a')], range, AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'TransientError', retryable: true, message: expect.stringContaining('cloudwatch.GetMetricData throttled') });
  });

  it('reports a call cancelled through its AbortSignal as a retryable cancellation, not a network error', async () => {
    // The SDK rejects the in-flight request when its abortSignal fires; here the socket error arrives after the abort.
    cw.on(GetMetricDataCommand).callsFake(() => new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 50)));
    const ac = new AbortController();
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter() });
    setTimeout(() => ac.abort(), 10);
    await expect(src.fetch([q('a')], range, ac.signal)).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('cloudwatch.GetMetricData cancelled') });
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(1);
  });

  it('asks for the anomaly band as FIRST/LAST of ANOMALY_DETECTION_BAND and returns it with the series', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'a', Timestamps: [at(0), at(1)], Values: [5, 50], StatusCode: 'Complete' },
        { Id: 'a__adu', Timestamps: [at(0), at(1)], Values: [10, 10], StatusCode: 'Complete' },
        { Id: 'a__adl', Timestamps: [at(0), at(1)], Values: [1, 1], StatusCode: 'Complete' },
      ],
    });
    const src = new CloudWatchMetricSource(new CloudWatchClient({ region: 'us-east-1' }), { limiter: fastLimiter(), anomalyBand: { stdDevs: 3 } });
    const [s] = await src.fetch([q('a')], range, AbortSignal.timeout(5000));
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.MetricDataQueries!.map((x) => x.Expression)).toEqual([undefined, 'FIRST(ANOMALY_DETECTION_BAND(a, 3))', 'LAST(ANOMALY_DETECTION_BAND(a, 3))']);
    expect(bandVerdict(s!, 'up').map((v) => v.anomalous)).toEqual([false, true]);
    expect(bandVerdict(s!, 'down').map((v) => v.anomalous)).toEqual([false, false]);
  });
});

describe('chunkQueries', () => {
  it('packs 1,201 queries into calls of at most 500', () => {
    const chunks = chunkQueries(Array.from({ length: 1201 }, (_, i) => q(`m${i}`)));
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 201]);
  });

  it('keeps an expression in the same call as the metrics it references', () => {
    const qs = [...Array.from({ length: 499 }, (_, i) => q(`m${i}`)), q('errs'), q('reqs'), q('rate', { expression: "100 * errs / reqs + 0 * SEARCH('{AWS/ELB} x', 'Sum', 60)" })];
    const chunks = chunkQueries(qs);
    const withRate = chunks.find((c) => c.some((x) => x.id === 'rate'))!;
    expect(withRate.map((x) => x.id)).toEqual(expect.arrayContaining(['errs', 'reqs', 'rate']));
    expect(chunks.every((c) => c.length <= 500)).toBe(true);
  });

  it('rejects invalid ids, duplicates and dangling references with PermanentError', () => {
    expect(() => chunkQueries([q('Upper')])).toThrow(/lowercase first letter/);
    expect(() => chunkQueries([q('a'), q('a')])).toThrow(/used twice/);
    expect(() => chunkQueries([q('r', { expression: 'x * 2' })])).toThrow(/references "x"/);
  });
});

describe('alignRange', () => {
  it('rounds the start down to the period and the end down to the shortest period', () => {
    expect(alignRange({ start: (T0 + 7 * MIN + 5) as EpochMs, end: (T0 + 13 * MIN + 5) as EpochMs }, 300, 60)).toEqual({ start: T0 + 5 * MIN, end: T0 + 13 * MIN });
  });
});
