import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { motoUrl, portsAt, resetMoto, signal } from './helpers.js';

const MIN = 60_000;
const now = Date.now();
const range = { start: (now - 30 * MIN) as EpochMs, end: now as EpochMs };

describe('InsightsLogSource against moto', () => {
  beforeAll(async () => {
    await resetMoto();
    const { logs } = portsAt(motoUrl()).clients;
    for (let g = 0; g < 55; g++) {
      const name = `/shop/svc${g}`;
      await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
      await logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: 'task-1' }));
      const events = [
        { timestamp: now - 20 * MIN, message: `INFO started svc${g}` },
        { timestamp: now - 5 * MIN, message: `ERROR payment declined svc${g}` },
        { timestamp: now - 4 * MIN, message: `error: Timeout calling db svc${g}` },
        { timestamp: now - 90 * MIN, message: `ERROR too old svc${g}` },
      ];
      await logs.send(new PutLogEventsCommand({ logGroupName: name, logStreamName: 'task-1', logEvents: events.sort((a, b) => a.timestamp - b.timestamp) }));
    }
  });

  it('runs StartQuery → GetQueryResults and returns only matching lines inside the range, oldest first', async () => {
    const src = portsAt(motoUrl(), { logs: { filterEventsBelowBytes: 0, pollInitialMs: 20 } }).logs;
    const out = await src.fetch({ groups: ['/shop/svc1'], range, limit: 100, filter: 'error' }, signal());
    expect(out.map((r) => r.message)).toEqual(['ERROR payment declined svc1', 'error: Timeout calling db svc1']);
    expect(out.every((r) => r.group === '/shop/svc1')).toBe(true);
    expect(out[0]!.t).toBe(now - 5 * MIN);
  });

  it('splits 55 log groups into queries of at most 50 and merges them under the limit', async () => {
    const ports = portsAt(motoUrl(), { logs: { filterEventsBelowBytes: 0, pollInitialMs: 20 } });
    const started: number[] = [];
    ports.clients.logs.middlewareStack.add(
      (next, ctx) => (args) => {
        if (ctx.commandName === 'StartQueryCommand') started.push((args.input as { logGroupNames: string[] }).logGroupNames.length);
        return next(args);
      },
      { step: 'initialize', name: 'countStarts' },
    );
    const groups = Array.from({ length: 55 }, (_, g) => `/shop/svc${g}`);
    const out = await ports.logs.fetch({ groups, range, limit: 30 }, signal());
    expect(started.sort((a, b) => b - a)).toEqual([50, 5]);
    // 165 lines match; the newest 30 (4 minutes ago, one per group) come back.
    expect(out).toHaveLength(30);
    expect(out.every((r) => r.message.startsWith('error: Timeout') && r.t === now - 4 * MIN)).toBe(true);
    expect(new Set(out.map((r) => r.group)).size).toBe(30);
  });

  it('reads small groups with FilterLogEvents (times in milliseconds) instead of a query', async () => {
    const ports = portsAt(motoUrl());
    const ops: string[] = [];
    ports.clients.logs.middlewareStack.add((next, ctx) => (args) => (ops.push(ctx.commandName ?? ''), next(args)), { step: 'initialize', name: 'ops' });
    const out = await ports.logs.fetch({ groups: ['/shop/svc2'], range, limit: 10 }, signal());
    expect(ops).toContain('FilterLogEventsCommand');
    expect(ops).not.toContain('StartQueryCommand');
    expect(out.map((r) => r.message)).toEqual(['INFO started svc2', 'ERROR payment declined svc2', 'error: Timeout calling db svc2']);
  });

  it('reports a log group that does not exist as a PermanentError', async () => {
    const src = portsAt(motoUrl(), { logs: { filterEventsBelowBytes: 0 } }).logs;
    await expect(src.fetch({ groups: ['/shop/nope'], range, limit: 10 }, signal())).rejects.toMatchObject({ name: 'PermanentError' });
  });
});
