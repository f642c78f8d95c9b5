import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionTarget, MetricSource } from '../../src/cloud/ports.js';
import { TransientError } from '../../src/core/errors.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import type { CompiledShard } from '../../src/policy/compile.js';
import type { Store } from '../../src/store/store.js';
import { demoPolicyFile } from '../helpers/daemon-files.js';
import { waitFor } from '../helpers/daemon-process.js';

/**
 * The fault suite of issue 16 item 6, on the daemon in this process (real HTTP, /readyz and /metrics):
 * a source that throttles, answers 5xx or never answers, and a store that becomes unavailable.
 */

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop().catch(() => undefined);
});

type Mode = 'ok' | 'throttle' | '5xx' | 'hang';

interface Faulty {
  mode: Mode;
  inflight: number;
  maxInflight: number;
  fetches: number;
}

/** The poll cycle's metric reads through a switchable fault (the evidence reads stay healthy). */
function faultyObserve(inner: MetricSource, f: Faulty): MetricSource {
  return {
    async fetch(queries, range, signal) {
      f.fetches++;
      f.inflight++;
      f.maxInflight = Math.max(f.maxInflight, f.inflight);
      try {
        if (f.mode === 'throttle') throw new TransientError('cloudwatch.GetMetricData throttled: ThrottlingException: Rate exceeded [HTTP 400]');
        if (f.mode === '5xx') throw new TransientError('cloudwatch.GetMetricData server: InternalFailure: internal error [HTTP 500]');
        if (f.mode === 'hang') {
          // Never answers: only the cycle's deadline ends it.
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new TransientError('cloudwatch.GetMetricData timed out: aborted at the cycle deadline')), { once: true }));
        }
        return await inner.fetch(queries, range, signal);
      } finally {
        f.inflight--;
      }
    },
  };
}

async function start(wrapPorts: (deps: PipelineDeps) => PipelineDeps, logs?: string[], edit?: (doc: Record<string, any>) => void): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-fault-'));
  const policyFile = demoPolicyFile(dir, (doc) => {
    doc['server'].port = 0;
    doc['cloud'].speed = 600;
    // At 600x a few wall seconds of outage are half an hour: keep the approval fresh across it (staleness is not what is tested).
    doc['approval'] = { ...doc['approval'], ttl: '6h', executeWithin: '3h', reminders: [] };
    delete doc['approval'].escalation;
    edit?.(doc);
  });
  const logger = logs
    ? pino({ level: 'warn' }, new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } }))
    : pino({ level: 'silent' });
  const d = await startDaemon({ policyFile, dataDir: dir, logger, wrapPorts });
  running.push(d);
  return d;
}

const readyz = async (d: Daemon): Promise<{ ready: boolean; why: string }> => (await fetch(`${d.url}/readyz`)).json() as Promise<{ ready: boolean; why: string }>;
const metricsText = async (d: Daemon): Promise<string> => (await fetch(`${d.url}/metrics`)).text();
const metricValue = (text: string, line: string): number => {
  const m = new RegExp(`^${line.replace(/[{}"=,.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m?.[1] ? Number(m[1]) : 0;
};
const cyclesRun = async (d: Daemon): Promise<number> => {
  const t = await metricsText(d);
  return metricValue(t, 'cloudops_cycles_total{outcome="ok"}') + metricValue(t, 'cloudops_cycles_total{outcome="error"}') + metricValue(t, 'cloudops_cycles_total{outcome="overrun"}');
};

describe('fault suite: a failing source degrades the daemon, never stops it', () => {
  it('throttling, 5xx and a never-answering call on the metric source: cycles go on without overlapping, /readyz and /metrics name the source and reason, and it recovers without a restart', async () => {
    // Prepare
    const f: Faulty = { mode: 'ok', inflight: 0, maxInflight: 0, fetches: 0 };
    const d = await start((deps) => ({ ...deps, observeMetrics: faultyObserve(deps.observeMetrics ?? deps.metrics, f) }));
    await waitFor('ready', async () => (await readyz(d)).ready, 20_000);
    const home = (d.policy.shards[0] as CompiledShard).key;

    for (const [mode, reason] of [['throttle', 'throttled'], ['5xx', 'server_error'], ['hang', 'timeout']] as const) {
      // Act: the source fails in this way.
      f.mode = mode;
      const before = await cyclesRun(d);
      const fetchesBefore = f.fetches;

      // Assess: said in /readyz and /metrics, and the schedule keeps cycling (several more cycles ran).
      const r = await waitFor(`/readyz to name metrics as ${reason}`, async () => {
        const x = await readyz(d);
        return x.why.includes(`degraded: metrics (${reason}`) ? x : null;
      }, 15_000);
      expect(r.why).toMatch(new RegExp(`degraded: metrics \\(${reason}, \\d+ failures? in a row for \\d+ s\\)`));
      const text = await metricsText(d);
      expect(metricValue(text, `cloudops_source_errors_total{source="metrics",reason="${reason}",shard="${home}"}`)).toBeGreaterThan(0);
      expect(metricValue(text, `cloudops_source_degraded{source="metrics",shard="${home}"}`)).toBe(1);
      await waitFor('more cycles while the source fails', async () => (await cyclesRun(d)) >= before + 3 && f.fetches >= fetchesBefore + 3, 15_000);
    }

    // Recovery: the next good answer clears it, no restart.
    f.mode = 'ok';
    await waitFor('/readyz without the degraded source', async () => !(await readyz(d)).why.includes('degraded'), 15_000);
    expect(metricValue(await metricsText(d), `cloudops_source_degraded{source="metrics",shard="${home}"}`)).toBe(0);
    expect((await readyz(d)).ready).toBe(true);
    // One cycle at a time: the poll's reads never overlapped, the hung one included.
    expect(f.maxInflight).toBe(1);
  }, 90_000);

  it('with two accounts, a throttled account is named as that shard\'s trouble: /readyz and /metrics say which account and region, the other stays clean, and it recovers', async () => {
    // Prepare: account shop (quiet payments) throttles; account pay (the demo's checkout) answers.
    const f: Faulty = { mode: 'throttle', inflight: 0, maxInflight: 0, fetches: 0 };
    const d = await start(
      (deps) => (deps.policy.shards[0]?.account.name === 'shop' ? { ...deps, observeMetrics: faultyObserve(deps.observeMetrics ?? deps.metrics, f) } : deps),
      undefined,
      (doc) => {
        doc['accounts'] = [
          { name: 'shop', id: '111111111111', regions: ['eu-west-1'], services: ['payments'], scenario: join(import.meta.dirname, '..', 'shard', 'fixtures', 'quiet-payments.yaml') },
          { name: 'pay', id: '222222222222', regions: ['eu-west-1'], services: ['checkout'] },
        ];
      },
    );
    const segment = (why: string, shard: string): string => why.split(' | ').find((p) => p.startsWith(`${shard}: `)) ?? '';

    // Assess: the shop shard is degraded by name; pay's segment and gauge are clean.
    const r = await waitFor('/readyz to name shop as throttled', async () => {
      const x = await readyz(d);
      return segment(x.why, 'shop/eu-west-1').includes('degraded: metrics (throttled') ? x : null;
    }, 20_000);
    expect(segment(r.why, 'pay/eu-west-1')).not.toBe('');
    expect(segment(r.why, 'pay/eu-west-1')).not.toContain('degraded');
    const text = await metricsText(d);
    expect(metricValue(text, 'cloudops_source_degraded{source="metrics",shard="shop/eu-west-1"}')).toBe(1);
    expect(metricValue(text, 'cloudops_source_degraded{source="metrics",shard="pay/eu-west-1"}')).toBe(0);
    expect(metricValue(text, 'cloudops_source_errors_total{source="metrics",reason="throttled",shard="shop/eu-west-1"}')).toBeGreaterThan(0);
    expect(metricValue(text, 'cloudops_source_errors_total{source="metrics",reason="throttled",shard="pay/eu-west-1"}')).toBe(0);

    // Recovery without a restart.
    f.mode = 'ok';
    await waitFor('/readyz without the degraded shard', async () => !(await readyz(d)).why.includes('degraded'), 20_000);
    expect(metricValue(await metricsText(d), 'cloudops_source_degraded{source="metrics",shard="shop/eu-west-1"}')).toBe(0);
  }, 90_000);
});

describe('fault suite: the store becomes unavailable', () => {
  it('at the step\'s write-ahead record: nothing executes without it, the log and /readyz say the store is unavailable, and once it is back the step runs once', async () => {
    // Prepare: the store fails every call from the moment the step's claim (step.started) is written.
    let down = false;
    let raw: Store | null = null;
    const executed: { key: string; recorded: boolean; down: boolean }[] = [];
    const logs: string[] = [];
    const d = await start((deps) => {
      raw = deps.store;
      const store = new Proxy(deps.store, {
        get(t, prop) {
          const v: unknown = Reflect.get(t, prop, t);
          if (typeof v !== 'function' || prop === 'close') return v;
          return async (...args: unknown[]): Promise<unknown> => {
            const audit = prop === 'updateIncident' ? (args[1] as { kind?: string } | undefined) : undefined;
            if (audit?.kind === 'step.started' && executed.length === 0 && !down && !tripped) {
              tripped = true;
              down = true;
            }
            if (down) throw new Error('SQLITE_IOERR: disk I/O error (the store is unavailable)');
            return (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          };
        },
      });
      const actions: ActionTarget = {
        ...deps.actions,
        check: (...a) => deps.actions.check(...a),
        async execute(call, key, signal) {
          const started = (await raw!.listAudit({ incidentId: key.split('/')[0] ?? '' })).some((a) => a.kind === 'step.started' && a.data['key'] === key);
          executed.push({ key, recorded: started, down });
          return deps.actions.execute(call, key, signal);
        },
      };
      if (deps.actions.preview) Object.assign(actions, { preview: deps.actions.preview.bind(deps.actions) });
      if (deps.actions.preconditions) Object.assign(actions, { preconditions: deps.actions.preconditions.bind(deps.actions) });
      return { ...deps, store, actions };
    }, logs);
    let tripped = false;
    const inc = await waitFor('a proposal', async () => (await raw!.listIncidents({ states: ['awaiting_approval'] }))[0], 20_000);

    // Act: approve; the executor's write-ahead record hits the failing store.
    const res = await fetch(`${d.url}/api/incidents/${inc.id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
      body: JSON.stringify({ runbookHash: inc.runbook?.hash }),
    });
    expect(res.status).toBe(200);
    await waitFor('the store to fail', async () => down, 15_000);

    // Assess: while it is down, nothing ran; /readyz and the log say why.
    const r = await waitFor('/readyz to name the store', async () => {
      const x = await readyz(d);
      return x.why.includes('degraded: store (unavailable') ? x : null;
    }, 15_000);
    expect(r.why).toMatch(/degraded: store \(unavailable, \d+ failures? in a row/);
    await new Promise((res2) => setTimeout(res2, 1_500));
    expect(executed).toEqual([]);
    expect(logs.join('')).toMatch(/SQLITE_IOERR: disk I\/O error/);

    // Recovery: the store is back; the step is claimed, then runs, once.
    down = false;
    await waitFor('the step to run', async () => executed.length > 0, 20_000).catch(async (err: unknown) => {
      const now = await raw!.getIncident(inc.id);
      throw new Error(`${String(err)}: ${now?.state} ${now?.reason} ${JSON.stringify(now?.steps)}\n${logs.join('').slice(-3000)}`);
    });
    await waitFor('/readyz without the degraded store', async () => !(await readyz(d)).why.includes('degraded: store'), 15_000);
    await new Promise((res2) => setTimeout(res2, 1_000));
    expect(executed).toHaveLength(1);
    expect(executed[0]?.recorded).toBe(true);
    expect(executed[0]?.down).toBe(false);
  }, 90_000);
});
