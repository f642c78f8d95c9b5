import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { describeDegraded, failureReason, SourceHealth, tracked } from '../../src/pipeline/source-health.js';

describe('failureReason', () => {
  it.each([
    [new TransientError('x throttled', { cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }) }), 'throttled'],
    [new TransientError('cloudwatch.GetMetricData throttled: ThrottlingException: Rate exceeded'), 'throttled'],
    [new TransientError('x', { cause: Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }) }), 'server_error'],
    [new TransientError('cloudwatch.GetMetricData server: InternalFailure [HTTP 503]'), 'server_error'],
    [new TransientError('logs query timed out'), 'timeout'],
    [Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }), 'timeout'],
    [new Error('SQLITE_BUSY: database is locked'), 'unavailable'],
    [new PermanentError('ecs.UpdateService access: AccessDenied'), 'refused'],
    [new Error('something else'), 'other'],
  ])('%s → %s', (err, reason) => {
    expect(failureReason(err)).toBe(reason);
  });
});

describe('SourceHealth', () => {
  it('a source is degraded from its first failure until its next success, counting failures in a row', async () => {
    let now = 1_000;
    const counted: string[] = [];
    const h = new SourceHealth(() => now, (s, r) => counted.push(`${s}:${r}`));
    const port = tracked({ async fetch(fail: boolean) { if (fail) throw new TransientError('throttled: Rate exceeded'); return 'ok'; } }, 'metrics', h);

    await expect(port.fetch(true)).rejects.toThrow(/Rate exceeded/);
    now = 4_000;
    await expect(port.fetch(true)).rejects.toThrow();
    expect(h.degraded()).toEqual([{ source: 'metrics', reason: 'throttled', failures: 2, sinceMs: 1_000, lastError: 'throttled: Rate exceeded' }]);
    expect(describeDegraded(h.degraded(), 13_000)).toBe('degraded: metrics (throttled, 2 failures in a row for 12 s)');
    expect(counted).toEqual(['metrics:throttled', 'metrics:throttled']);

    expect(await port.fetch(false)).toBe('ok');
    expect(h.degraded()).toEqual([]);
    expect(describeDegraded(h.degraded(), 13_000)).toBe('');
  });

  it('tracked methods keep their object as `this` (class instances with private state work)', async () => {
    class Source {
      #n = 41;
      async next(): Promise<number> {
        return ++this.#n;
      }
    }
    const h = new SourceHealth();
    expect(await tracked(new Source(), 'deployments', h).next()).toBe(42);
  });
});
