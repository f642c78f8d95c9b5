import { describe, expect, it } from 'vitest';
import type { DeploymentSource, LogQuery, LogSource, MetricQuery, MetricSource } from '../../src/cloud/ports.js';
import { epochMs, type EpochMs } from '../../src/core/time.js';
import { ManualClock } from '../../src/core/clock.js';
import { queryLogs, queryMetrics, type McpReadDeps } from '../../src/mcp/read-model.js';
import { routedSources, type ShardSources } from '../../src/pipeline/routed-sources.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { CompiledShard } from '../../src/policy/compile.js';
import { demoFiles } from '../helpers/fast-world.js';

/** Issue 16 item 5: the read ports the shared routes use send each question to the shard it is about. */
const files = demoFiles((doc) => {
  doc.accounts = [
    { name: 'shop', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], services: ['payments'] },
    { name: 'pay', id: '222222222222', regions: ['eu-west-1'], services: ['checkout'] },
  ];
});
const policy = files.policy;
const t = (m: number): EpochMs => epochMs(Date.UTC(2026, 10, 2, 8, m));
const range = { start: t(0), end: t(60) };
const signal = new AbortController().signal;

/** Fake ports of one shard that record what they were asked and answer with their shard's name in the data. */
function fake(shard: CompiledShard): ShardSources & { asked: string[] } {
  const asked: string[] = [];
  const metrics: MetricSource = { fetch: async (qs: readonly MetricQuery[]) => { asked.push(...qs.map((q) => `metric:${q.id}`)); return qs.map((q) => ({ id: q.id, points: [{ t: t(1), v: shard.key.length }] })); } };
  const logs: LogSource = { fetch: async (q: LogQuery) => { asked.push(...q.groups.map((g) => `group:${g}`)); return q.groups.map((g, i) => ({ t: t(10 - i), group: g, message: shard.key })); } };
  const deployments: DeploymentSource = { list: async (ps: readonly string[]) => { asked.push(...ps.map((p) => `pipeline:${p}`)); return ps.map((p) => ({ id: `${shard.key}:${p}`, pipeline: p, status: 'Succeeded' as const, startedAt: t(5) })); } };
  return { shard, metrics, logs, deployments, asked };
}

describe('routed read ports over shards', () => {
  const [shopEu, shopUs, pay] = policy.shards as [CompiledShard, CompiledShard, CompiledShard];
  const ports = [fake(shopEu), fake(shopUs), fake(pay)];
  const routed = routedSources(policy, ports);
  const svc = (name: string) => policy.doc.services[name] as { logGroups: string[]; pipelines: string[] };

  it('asks each metric of the shard watching its service, and keeps the order asked', async () => {
    const queries = [policy.metrics.find((m) => m.service === 'checkout'), policy.metrics.find((m) => m.service === 'payments')] as MetricQuery[];
    const got = await routed.metrics.fetch(queries, range, signal);
    expect(got.map((s) => s.id)).toEqual(queries.map((q) => q.id));
    expect(ports[2]?.asked).toContain(`metric:${queries[0]?.id}`);
    expect(ports[0]?.asked).toContain(`metric:${queries[1]?.id}`);
    expect(ports[0]?.asked).not.toContain(`metric:${queries[0]?.id}`);
  });

  it('asks log groups and pipelines of their service\'s shard, merging in time order within the limit', async () => {
    const groups = [...svc('checkout').logGroups, ...svc('payments').logGroups];
    expect(groups.length).toBeGreaterThanOrEqual(2);
    const records = await routed.logs.fetch({ groups, range, limit: 10 }, signal);
    expect(records.map((r) => r.t)).toEqual([...records.map((r) => r.t)].sort((a, b) => a - b));
    const byGroup = new Map(records.map((r) => [r.group, r.message]));
    for (const g of svc('checkout').logGroups) expect(byGroup.get(g)).toBe(pay.key);
    for (const g of svc('payments').logGroups) expect(byGroup.get(g)).toBe(shopEu.key);
    expect((await routed.logs.fetch({ groups, range, limit: 1 }, signal)).length).toBe(1);
    const deps = await routed.deployments.list([...svc('checkout').pipelines, ...svc('payments').pipelines], range, signal);
    for (const p of svc('checkout').pipelines) expect(deps.find((d) => d.pipeline === p)?.id).toBe(`${pay.key}:${p}`);
  });

  it('sends an incident\'s questions to its own account and region, a legacy record to its service\'s shard', () => {
    expect(routed.forIncident({ account: 'shop', region: 'us-east-1', service: 'payments' })).toBe(ports[1]);
    expect(routed.forIncident({ account: 'pay', region: 'eu-west-1', service: 'checkout' })).toBe(ports[2]);
    expect(routed.forIncident({ service: 'checkout' })).toBe(ports[2]);
  });

  it('one shard: the ports as they are', () => {
    const single = routedSources(policy, [ports[0] as ShardSources]);
    expect(single.metrics).toBe(ports[0]?.metrics);
    expect(single.forIncident({ service: 'checkout' })).toBe(ports[0]);
    expect(single.placesOf('checkout').map((p) => p.sources)).toEqual([ports[0]]);
    expect(single.placesOf('nope')).toEqual([]);
  });

  it('names every account and region that watches a service', () => {
    expect(routed.placesOf('payments').map((p) => `${p.account}/${p.region}`)).toEqual(['shop/eu-west-1', 'shop/us-east-1']);
    expect(routed.placesOf('checkout').map((p) => p.sources)).toEqual([ports[2]]);
  });

  it('MCP metric and log queries read the account and region asked; a service watched in two regions needs the choice', async () => {
    const deps: McpReadDeps = {
      store: new SqliteStore(':memory:', { auditKey: null }),
      policy,
      clock: new ManualClock(t(60)),
      ...routed,
      placesOf: (s) => routed.placesOf(s),
      templates: [],
      publicUrl: () => 'http://x',
    };
    const payments = policy.metrics.find((m) => m.service === 'payments')?.id ?? '';
    const checkout = policy.metrics.find((m) => m.service === 'checkout')?.id ?? '';
    await expect(queryMetrics(deps, { metricId: payments, from: '30m' }, signal)).rejects.toThrow(/payments is watched in shop\/eu-west-1, shop\/us-east-1: name the account and\/or region/);
    await expect(queryMetrics(deps, { metricId: payments, from: '30m', account: 'pay' }, signal)).rejects.toThrow(/payments is not watched in account pay; it is watched in shop\/eu-west-1, shop\/us-east-1/);
    const before = ports[1]?.asked.length ?? 0;
    expect(await queryMetrics(deps, { metricId: payments, from: '30m', region: 'us-east-1' }, signal)).toMatchObject({ account: 'shop', region: 'us-east-1', points: [[expect.any(String), shopUs.key.length]] });
    expect(ports[1]?.asked.slice(before)).toEqual([`metric:${payments}`]);
    // One place: no choice needed, and the answer says where it was read.
    expect(await queryMetrics(deps, { metricId: checkout, from: '30m' }, signal)).toMatchObject({ account: 'pay', region: 'eu-west-1' });
    const logs = (await queryLogs(deps, { service: 'payments', from: '30m', limit: 10, account: 'shop', region: 'eu-west-1' }, signal)) as { records: { message: string }[] };
    expect(logs.records.map((r) => r.message)).toEqual(svc('payments').logGroups.map(() => shopEu.key));
  });
});
