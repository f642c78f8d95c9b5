import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BandRoutingMetricSource } from '../../../src/cloud/aws/band-routing-source.js';
import { RateLimiter } from '../../../src/cloud/aws/rate-limiter.js';
import type { MetricQuery } from '../../../src/cloud/ports.js';
import type { EpochMs } from '../../../src/core/time.js';
import { bandVerdictAt } from '../../../src/pipeline/observe.js';

const cw = mockClient(CloudWatchClient);
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const MIN = 60_000;
const range = { start: T0 as EpochMs, end: (T0 + 3 * MIN) as EpochMs };
const q = (id: string, extra: Partial<MetricQuery> = {}): MetricQuery => ({ id, service: 'api', namespace: 'AWS/ApplicationELB', metricName: id, dimensions: { LoadBalancer: 'app/x/1' }, stat: 'Sum', periodSec: 60, ...extra });

/** Answers every query: plain metrics 5, 50, 5; band upper 10, lower 1. */
function answer(input: GetMetricDataCommandInput): { MetricDataResults: MetricDataResult[] } {
  const ts = [0, 1, 2].map((m) => new Date(T0 + m * MIN));
  return {
    MetricDataResults: (input.MetricDataQueries ?? []).map((x) => ({
      Id: x.Id,
      Timestamps: ts,
      Values: x.Id!.endsWith('__adu') ? [10, 10, 10] : x.Id!.endsWith('__adl') ? [1, 1, 1] : [5, 50, 5],
      StatusCode: 'Complete',
    })),
  };
}

describe('BandRoutingMetricSource', () => {
  beforeEach(() => {
    cw.reset();
    cw.on(GetMetricDataCommand).callsFake(answer);
  });

  it('asks for the anomaly band only for band metrics, at their width, and returns it with their series', async () => {
    const src = new BandRoutingMetricSource(new CloudWatchClient({ region: 'us-east-1' }), (x) => (x.id === 'banded' ? 3 : null), { limiter: new RateLimiter(1000, 1000) });
    const out = await src.fetch([q('plain'), q('banded')], range, AbortSignal.timeout(5000));
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.map((x) => x.Expression ?? x.Id));
    expect(calls).toEqual([['plain'], ['banded', 'FIRST(ANOMALY_DETECTION_BAND(banded, 3))', 'LAST(ANOMALY_DETECTION_BAND(banded, 3))']]);
    expect(out.find((s) => s.id === 'plain')?.band).toBeUndefined();
    expect(out.find((s) => s.id === 'banded')?.band?.upper.map((p) => p.v)).toEqual([10, 10, 10]);
  });

  it('reads a band metric that an expression references in the expression call too, keeping the banded series', async () => {
    const src = new BandRoutingMetricSource(new CloudWatchClient({ region: 'us-east-1' }), (x) => (x.id === 'errors' ? 2 : null), { limiter: new RateLimiter(1000, 1000) });
    const out = await src.fetch([q('errors'), q('rate', { expression: 'errors / 60', namespace: '', metricName: '' })], range, AbortSignal.timeout(5000));
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.map((x) => x.Id));
    expect(calls).toContainEqual(['rate', 'errors']);
    expect(out.filter((s) => s.id === 'errors')).toHaveLength(1);
    expect(out.find((s) => s.id === 'errors')?.band).toBeDefined();
    expect(out.find((s) => s.id === 'rate')).toBeDefined();
  });
});

describe('the cloudwatchBand verdict', () => {
  const band = { upper: new Map([[T0, 10]]), lower: new Map([[T0, 1]]) };
  it('flags a point outside the band in an allowed direction, and leaves points without a band to the detector', () => {
    expect(bandVerdictAt(band, T0, 50, 'up')).toMatchObject({ anomalous: true, direction: 'up', expected: 5.5, score: 1 });
    expect(bandVerdictAt(band, T0, 50, 'down')).toMatchObject({ anomalous: false });
    expect(bandVerdictAt(band, T0, 0.5, 'both')).toMatchObject({ anomalous: true, direction: 'down' });
    expect(bandVerdictAt(band, T0, 5, 'both')).toMatchObject({ anomalous: false, score: 0 });
    expect(bandVerdictAt(band, T0 + MIN, 50, 'both')).toBeNull();
  });
});
