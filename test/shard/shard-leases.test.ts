import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { epochMs } from '../../src/core/time.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { MEMBERS_KEY, registerShardMetrics, ShardLeases, type ShardLeaseSpec } from '../../src/pipeline/shard-leases.js';
import { StaleFencingTokenError } from '../../src/store/lease.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { nextVersion } from '../../src/store/store.js';

const TTL = 900;
const SHARDS: ShardLeaseSpec[] = [
  { key: 'shop/eu-west-1', lease: 'shard:111111111111:eu-west-1:0' },
  { key: 'shop/us-east-1', lease: 'shard:111111111111:us-east-1:0' },
  { key: 'pay/eu-west-1', lease: 'shard:222222222222:eu-west-1:0' },
];

/** Three tasks: three stores (connections) on one SQLite file, each with its own shard leases. */
function tasks(n: number, dir: string) {
  const clock = new SystemClock();
  return Array.from({ length: n }, (_, i) => {
    const store = new SqliteStore(join(dir, 'shared.db'));
    const leases = new ShardLeases({ store, owner: `task-${i}`, shards: SHARDS, ttlMs: TTL, clock, monotonic: clock.monotonic, logger: pino({ level: 'silent' }) });
    return { store, leases };
  });
}

/** How many tasks hold each shard right now. */
const holders = (ts: { leases: ShardLeases }[]): number[] => SHARDS.map((s) => ts.filter((t) => t.leases.isLeader(s.key)).length);

async function until(what: string, ok: () => boolean, ms: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (ok()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('shard leases: N tasks split the shards (issue 16 item 5)', () => {
  let dir = '';
  let open: { store: SqliteStore; leases: ShardLeases }[] = [];
  afterEach(async () => {
    for (const t of open) {
      await t.leases.stop();
      await t.store.close();
    }
    open = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('three tasks spread three shards one each, every shard with exactly one holder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shard-'));
    open = tasks(3, dir);
    for (const t of open) await t.leases.round();
    for (const t of open) t.leases.start();
    await until('one shard per task', () => open.every((t) => t.leases.held().length === 1) && holders(open).every((n) => n === 1), 5 * TTL);
    expect(open.map((t) => t.leases.status().liveTasks)).toEqual([3, 3, 3]);
    // And it stays so over several renewals: nobody steals, nobody drops.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, TTL / 4));
      expect(holders(open)).toEqual([1, 1, 1]);
    }
  });

  it('a task alone takes every shard; when a second joins the first releases down to its fair share', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shard-'));
    open = tasks(2, dir);
    const [a, b] = open as [(typeof open)[0], (typeof open)[0]];
    await a.leases.round();
    expect(a.leases.held()).toHaveLength(3);
    a.leases.start();
    await b.leases.round();
    b.leases.start();
    await until('shares of 2 and 1', () => holders(open).every((n) => n === 1) && a.leases.held().length + b.leases.held().length === 3 && b.leases.held().length >= 1, 6 * TTL);
    expect(Math.max(a.leases.held().length, b.leases.held().length)).toBe(2);
    expect(a.leases.share()).toBe(2);
  });

  it('a killed task\'s shard is taken over within the lease TTL, and its old fencing token is refused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shard-'));
    open = tasks(3, dir);
    const crash = new AbortController();
    for (const t of open) await t.leases.round();
    open[0]?.leases.start(crash.signal);
    for (const t of open.slice(1)) t.leases.start();
    await until('one shard per task', () => holders(open).every((n) => n === 1) && open.every((t) => t.leases.held().length === 1), 5 * TTL);
    const victim = open[0] as (typeof open)[0];
    const key = victim.leases.held()[0] as string;
    const fence = victim.leases.fence(key);
    // A claim fenced by the victim's token goes through while it holds the shard.
    const inc = newIncident('checkout-20261202-0800', 'checkout', [], epochMs(Date.now()));
    await victim.store.createIncident(inc, { at: inc.openedAt, incidentId: inc.id, kind: 'incident.opened', actor: 'test', data: {} });
    await victim.store.updateIncident(nextVersion(inc, epochMs(Date.now())), { at: inc.openedAt, incidentId: inc.id, kind: 'step.started', actor: 'test', data: {} }, fence);

    // SIGKILL in spirit: the loop stops, nothing is released, the member entry stays until it expires.
    crash.abort();
    const lastRenewal = performance.now();
    const survivors = open.slice(1);
    const took = await until(`a survivor holding ${key}`, () => survivors.some((t) => t.leases.isLeader(key)), 3 * TTL);
    expect(performance.now() - lastRenewal).toBeLessThanOrEqual(TTL + 150);
    expect(took).toBeLessThanOrEqual(TTL + 150);
    await until('all three shards held by the two survivors', () => survivors.reduce((n, t) => n + t.leases.held().length, 0) === 3, 2 * TTL);
    expect(holders(survivors)).toEqual([1, 1, 1]);
    await until('both survivors counting two live tasks', () => survivors.every((t) => t.leases.status().liveTasks === 2), TTL);
    const members = await survivors[0]?.store.getValue<Record<string, number>>(MEMBERS_KEY);
    expect(Object.keys(members ?? {}).sort()).toEqual(['task-1', 'task-2']);

    const stale = await victim.store.updateIncident(nextVersion(nextVersion(inc, epochMs(Date.now())), epochMs(Date.now())), { at: inc.openedAt, incidentId: inc.id, kind: 'step.started', actor: 'test', data: {} }, fence).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleFencingTokenError);
  });

  it('/metrics shows the role per shard and the live task count', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shard-'));
    open = tasks(1, dir);
    await open[0]?.leases.round();
    const registry = new Registry();
    registerShardMetrics(registry, () => (open[0] as (typeof open)[0]).leases.status());
    const text = await registry.metrics();
    for (const s of SHARDS) expect(text).toContain(`cloudops_shard_leader{shard="${s.key}",lease="${s.lease}"} 1`);
    expect(text).toContain('cloudops_shard_live_tasks 1');
  });

  it('a clean stop releases the shards and leaves the member record: the others take over at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shard-'));
    open = tasks(2, dir);
    for (const t of open) await t.leases.round();
    for (const t of open) t.leases.start();
    await until('both holding', () => open.every((t) => t.leases.held().length >= 1) && holders(open).every((n) => n === 1), 6 * TTL);
    const [a, b] = open as [(typeof open)[0], (typeof open)[0]];
    await a.leases.stop();
    const took = await until('b holding all three', () => b.leases.held().length === 3, 3 * TTL);
    // Released leases need no expiry wait: the next pass (a third of the TTL) takes them.
    expect(took).toBeLessThan(TTL / 3 + 250);
  });
});
