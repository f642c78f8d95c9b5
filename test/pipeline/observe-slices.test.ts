import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEstate, writeEstate } from '../../bench/reliability/synthetic-world.js';
import type { DeploymentSource, MetricSource } from '../../src/cloud/ports.js';
import type { EpochMs } from '../../src/core/time.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import { OBSERVE_SLICE, observe } from '../../src/pipeline/observe.js';
import type { Store } from '../../src/store/store.js';

/**
 * The estate's deps with the store's value reads and writes, the metric reads and the deployment reads
 * recorded; the metrics of `staleOf` are answered with one point already read (before the range).
 */
function recorded(deps: PipelineDeps, staleOf: Set<string>) {
  const reads: number[] = [];
  const writes: string[][] = [];
  const fetches: number[] = [];
  let deploymentLists = 0;
  const store = Object.create(deps.store) as Store;
  store.getValues = (keys, opts) => (reads.push(keys.length), deps.store.getValues(keys, opts));
  store.setValues = (entries, opts) => (writes.push(Object.keys(entries)), deps.store.setValues(entries, opts));
  const metrics: MetricSource = {
    fetch: async (q, r, s) => {
      fetches.push(q.length);
      const series = await deps.metrics.fetch(q, r, s);
      return series.map((x) => (staleOf.has(x.id) ? { ...x, points: [{ t: (r.start - 60_000) as EpochMs, v: 1 }] } : x));
    },
  };
  const deployments: DeploymentSource = { ...deps.deployments, list: (p, r, s) => (deploymentLists++, deps.deployments.list(p, r, s)) };
  const d: PipelineDeps = { ...deps, store, metrics, observeMetrics: metrics, deployments };
  return { deps: d, reads, writes, fetches, deploymentLists: () => deploymentLists };
}

describe('observe in slices', () => {
  it('reads, fetches and writes at most one slice of metrics at a time, reads deployments once a cycle, and scores every metric', async () => {
    const n = 2 * OBSERVE_SLICE + 37;
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-slices-'));
    const e = openEstate(dir, writeEstate(dir, { metrics: n, days: 1, every: '15m', badDeployEveryH: 0 }));
    const r = recorded(e.deps, new Set());
    const cycle = () => {
      e.clock.advance(e.policy.pollEveryMs);
      const now = e.clock.now();
      return observe(r.deps, { now, deadline: (now + 60_000) as EpochMs, signal: new AbortController().signal });
    };
    await cycle();
    r.reads.length = 0;
    r.writes.length = 0;
    r.fetches.length = 0;
    const before = r.deploymentLists();
    const events = await cycle();
    expect(r.deploymentLists() - before).toBe(1);
    expect(r.reads).toEqual([OBSERVE_SLICE, OBSERVE_SLICE, 37]);
    expect(r.fetches).toEqual([OBSERVE_SLICE, OBSERVE_SLICE, 37]);
    expect(r.writes.map((w) => w.length)).toEqual([OBSERVE_SLICE, OBSERVE_SLICE, 37]);
    // Every metric's 15 new one-minute points, once each.
    const perMetric = new Map<string, number>();
    for (const ev of events) perMetric.set(ev.metricId, (perMetric.get(ev.metricId) ?? 0) + 1);
    expect(perMetric.size).toBe(n);
    expect([...perMetric.values()].every((c) => c === 15)).toBe(true);
    await e.store.close();
  });

  it('a metric answered with no new point (only one already read) keeps its stored cursor untouched (not written again)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-slices-'));
    const e = openEstate(dir, writeEstate(dir, { metrics: 40, days: 1, every: '15m', badDeployEveryH: 0 }));
    const quiet = new Set<string>();
    const r = recorded(e.deps, quiet);
    const cycle = () => {
      e.clock.advance(e.policy.pollEveryMs);
      const now = e.clock.now();
      return observe(r.deps, { now, deadline: (now + 60_000) as EpochMs, signal: new AbortController().signal });
    };
    await cycle();
    const id = e.policy.metrics[3]?.id ?? '';
    const stored = (await e.store.getValues<unknown>([`detector:${id}`])).get(`detector:${id}`);
    quiet.add(id);
    r.writes.length = 0;
    await cycle();
    const written = r.writes.flat();
    expect(written).toHaveLength(39);
    expect(written).not.toContain(`detector:${id}`);
    expect((await e.store.getValues<unknown>([`detector:${id}`])).get(`detector:${id}`)).toEqual(stored);
    await e.store.close();
  });
});
