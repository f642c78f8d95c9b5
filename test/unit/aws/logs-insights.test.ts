import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand, GetQueryResultsCommand, StartQueryCommand, StopQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { insightsFilter, insightsTimes, InsightsLogSource, parseInsightsTime, recordsQuery } from '../../../src/cloud/aws/logs-insights.js';
import type { EpochMs } from '../../../src/core/time.js';

const logs = mockClient(CloudWatchLogsClient);
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const range = { start: T0 as EpochMs, end: (T0 + 600_000) as EpochMs };
const row = (ts: string, msg: string, log = '123456789012:/shop/api') => [
  { field: '@timestamp', value: ts },
  { field: '@message', value: msg },
  { field: '@log', value: log },
];

/** A virtual clock for the poll loop: sleeping advances it. */
function virtualTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), slept: () => t };
}

describe('InsightsLogSource (mocked client)', () => {
  beforeEach(() => logs.reset());

  it('starts the query with epoch seconds, polls until Complete and parses Insights timestamps as UTC', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
    logs.on(GetQueryResultsCommand).resolvesOnce({ status: 'Scheduled' }).resolvesOnce({ status: 'Running', results: [] }).resolves({ status: 'Complete', results: [row('2025-01-01 12:03:04.500', 'ERROR boom')] });
    const vt = virtualTime();
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), { filterEventsBelowBytes: 0, ...vt });
    const out = await src.fetch({ groups: ['/shop/api'], range, limit: 50, filter: 'error' }, AbortSignal.timeout(5000));
    const start = logs.commandCalls(StartQueryCommand)[0]!.args[0].input;
    expect(start).toMatchObject({ logGroupNames: ['/shop/api'], startTime: T0 / 1000, endTime: T0 / 1000 + 599 });
    expect(start.queryString).toBe('fields @timestamp, @message, @log | filter @message like /(?i)error/ | sort @timestamp desc | limit 50');
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(3);
    expect(out).toEqual([{ t: T0 + 184_500, group: '/shop/api', message: 'ERROR boom' }]);
  });

  it('backs off between polls and stops the query when the deadline passes', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const vt = virtualTime();
    const waits: number[] = [];
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), {
      filterEventsBelowBytes: 0,
      queryTimeoutMs: 10_000,
      now: vt.now,
      sleep: async (ms) => (waits.push(ms), vt.sleep(ms)),
    });
    await expect(src.fetch({ groups: ['/shop/api'], range, limit: 10 }, AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('not complete after 10000 ms') });
    expect(waits.slice(0, 4)).toEqual([250, 400, 640, 1024]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(4000);
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input.queryId)).toEqual(['slow']);
  });

  it('stops the query when the caller cancels while it runs', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const ac = new AbortController();
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), {
      filterEventsBelowBytes: 0,
      sleep: (_ms, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    });
    const p = src.fetch({ groups: ['/shop/api'], range, limit: 10 }, ac.signal);
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toMatchObject({ name: 'TransientError', retryable: true });
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(1);
  });

  it('reports a Failed query as a PermanentError', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q3' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), { filterEventsBelowBytes: 0, ...virtualTime() });
    await expect(src.fetch({ groups: ['/shop/api'], range, limit: 10 }, AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'PermanentError' });
  });

  it('maps too many concurrent queries (LimitExceededException) to a TransientError', async () => {
    logs.on(StartQueryCommand).rejects(Object.assign(new Error('too many'), { name: 'LimitExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), { filterEventsBelowBytes: 0 });
    await expect(src.fetch({ groups: ['/shop/api'], range, limit: 10 }, AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'TransientError' });
  });

  it('pages FilterLogEvents past empty pages for a small group, in milliseconds, keeping the newest lines under the limit', async () => {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/shop/api', storedBytes: 1000 }] });
    logs.on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: T0 + 1000, message: 'ERROR a' }, { timestamp: T0 + 2000, message: 'INFO b' }], nextToken: 't1' })
      .resolvesOnce({ events: [], nextToken: 't2' })
      .resolvesOnce({ events: [{ timestamp: T0 + 3000, message: 'error c' }, { timestamp: T0 + 4000, message: 'Error d' }] });
    const vt = virtualTime();
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), vt);
    const out = await src.fetch({ groups: ['/shop/api'], range, limit: 2, filter: 'error' }, AbortSignal.timeout(5000));
    const calls = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({ logGroupName: '/shop/api', startTime: T0, endTime: T0 + 599_999 });
    expect(calls[2]!.nextToken).toBe('t2');
    expect(out.map((r) => r.message)).toEqual(['error c', 'Error d']);
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(0);
  });

  it('counts errors per minute for the onset and baseline windows, with samples', async () => {
    logs.on(StartQueryCommand).callsFake((input: { queryString: string; startTime: number }) => ({ queryId: `${input.queryString.includes('stats') ? 'c' : 's'}${input.startTime}` }));
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) => {
      const onset = input.queryId.endsWith(String(T0 / 1000 + 300));
      if (input.queryId.startsWith('c'))
        return { status: 'Complete', results: onset ? [[{ field: 'minute', value: '2025-01-01 12:05:00.000' }, { field: 'n', value: '40' }], [{ field: 'minute', value: '2025-01-01 12:06:00.000' }, { field: 'n', value: '55' }]] : [[{ field: 'minute', value: '2025-01-01 12:01:00.000' }, { field: 'n', value: '1' }]] };
      return { status: 'Complete', results: onset ? [row('2025-01-01 12:05:10.000', 'ERROR db timeout')] : [] };
    });
    const src = new InsightsLogSource(new CloudWatchLogsClient({ region: 'us-east-1' }), { filterEventsBelowBytes: 0, ...virtualTime() });
    const p = await src.errorProfile({ groups: ['/shop/api'], onset: { start: (T0 + 300_000) as EpochMs, end: (T0 + 420_000) as EpochMs }, baseline: { start: T0 as EpochMs, end: (T0 + 300_000) as EpochMs } }, AbortSignal.timeout(5000));
    expect(p.onset.perMinute).toEqual([{ t: T0 + 300_000, count: 40 }, { t: T0 + 360_000, count: 55 }]);
    expect(p.onset.total).toBe(95);
    expect(p.onset.samples.map((s) => s.message)).toEqual(['ERROR db timeout']);
    expect(p.baseline.total).toBe(1);
    expect(logs.commandCalls(StartQueryCommand).some((c) => c.args[0].input.queryString!.includes('stats count(*) as n by bin(1m)'))).toBe(true);
  });
});

describe('Logs Insights helpers', () => {
  it('escapes substrings and keeps regexes for the like filter', () => {
    expect(insightsFilter('a.b/c')).toBe('filter @message like /(?i)a\\.b\\/c/');
    expect(insightsFilter('/5\\d\\d|fatal/i')).toBe('filter @message like /(?i)5\\d\\d|fatal/');
    expect(recordsQuery(undefined, 7)).toBe('fields @timestamp, @message, @log | sort @timestamp desc | limit 7');
  });

  it('converts the exclusive millisecond range to inclusive seconds', () => {
    expect(insightsTimes({ start: 1_700_000_000_500 as EpochMs, end: 1_700_000_060_000 as EpochMs })).toEqual({ startTime: 1_700_000_000, endTime: 1_700_000_059 });
  });

  it('parses Insights and epoch timestamps, and rejects garbage', () => {
    expect(parseInsightsTime('2025-01-01 00:00:01.000')).toBe(Date.UTC(2025, 0, 1, 0, 0, 1));
    expect(parseInsightsTime('1735689601000')).toBe(1735689601000);
    expect(parseInsightsTime('yesterday')).toBeUndefined();
  });
});
