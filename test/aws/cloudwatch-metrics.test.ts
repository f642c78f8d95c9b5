import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { MetricQuery } from '../../src/cloud/ports.js';
import { motoUrl, portsAt, resetMoto, signal } from './helpers.js';

const MIN = 60_000;
const base = Math.floor(Date.now() / MIN) * MIN - 40 * MIN;
const q = (id: string, metricName: string, service = 'svc0'): MetricQuery => ({
  id,
  service,
  namespace: 'Shop',
  metricName,
  dimensions: { Service: service },
  stat: 'Sum',
  periodSec: 60,
});

describe('CloudWatchMetricSource against moto', () => {
  const ports = () => portsAt(motoUrl());

  beforeAll(async () => {
    await resetMoto();
    const p = ports();
    // Errors: one datapoint per minute for 30 minutes, except minute 12 (a gap) and minute 20 (a real 0).
    const data: MetricDatum[] = [];
    for (let i = 0; i < 30; i++) {
      if (i === 12) continue;
      data.push({ MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'svc0' }], Timestamp: new Date(base + i * MIN + 30_000), Value: i === 20 ? 0 : 7 });
    }
    await p.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: data }));
    // 600 more metrics, one datapoint each, to force two GetMetricData calls.
    for (let k = 0; k < 600; k += 150) {
      const batch: MetricDatum[] = [];
      for (let j = k; j < k + 150; j++) batch.push({ MetricName: 'Requests', Dimensions: [{ Name: 'Service', Value: `bulk${j}` }], Timestamp: new Date(base + 5 * MIN + 30_000), Value: j });
      await p.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: batch }));
    }
  });

  it('returns datapoints in ascending time, a missing minute as a gap and a real zero as 0', async () => {
    const [s] = await ports().metrics.fetch([q('errors', 'Errors')], { start: base as EpochMs, end: (base + 30 * MIN) as EpochMs }, signal());
    const ts = s!.points.map((p) => (p.t - base) / MIN);
    expect(ts).not.toContain(12);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(s!.points.find((p) => p.t === base + 20 * MIN)?.v).toBe(0);
    expect(s!.points.filter((p) => p.v === 7).length).toBeGreaterThanOrEqual(25);
    expect(s!.partial).toBeUndefined();
  });

  it('aligns the range to the period and drops the minute still in progress', async () => {
    const [s] = await ports().metrics.fetch([q('errors', 'Errors')], { start: (base + 10 * MIN + 17_000) as EpochMs, end: (base + 15 * MIN + 42_000) as EpochMs }, signal());
    const ts = s!.points.map((p) => (p.t - base) / MIN);
    expect(Math.min(...ts)).toBe(10);
    expect(Math.max(...ts)).toBe(14);
  });

  it('splits 601 queries into two GetMetricData calls of at most 500 and loses none', async () => {
    const p = ports();
    let calls = 0;
    p.clients.cloudwatch.middlewareStack.add((next) => (args) => ((calls += 1), next(args)), { step: 'initialize', name: 'countCalls' });
    const queries = [q('errors', 'Errors'), ...Array.from({ length: 600 }, (_, j) => ({ ...q(`bulk${j}`, 'Requests', `bulk${j}`) }))];
    const out = await p.metrics.fetch(queries, { start: base as EpochMs, end: (base + 30 * MIN) as EpochMs }, signal());
    expect(calls).toBe(2);
    expect(out.map((s) => s.id)).toEqual(queries.map((x) => x.id));
    expect(out.find((s) => s.id === 'bulk599')!.points).toEqual([{ t: base + 5 * MIN, v: 599 }]);
  });

  it('turns a query id CloudWatch would reject into a PermanentError before calling', async () => {
    await expect(ports().metrics.fetch([q('Errors', 'Errors')], { start: base as EpochMs, end: (base + MIN * 5) as EpochMs }, signal())).rejects.toMatchObject({
      name: 'PermanentError',
      retryable: false,
      message: expect.stringContaining('lowercase first letter'),
    });
  });

  it('reports an unreachable endpoint as a TransientError', async () => {
    const p = portsAt('http://127.0.0.1:9', { requestTimeoutMs: 500, connectionTimeoutMs: 200 });
    await expect(p.metrics.fetch([q('errors', 'Errors')], { start: base as EpochMs, end: (base + 5 * MIN) as EpochMs }, signal())).rejects.toMatchObject({ name: 'TransientError', retryable: true });
  });
});
