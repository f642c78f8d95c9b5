import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPolicyFile, stepsStarted } from '../helpers/daemon-files.js';
import { getJson, startDaemonProcess, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';

/**
 * Issue 16 item 5 in real processes: three `cloudops run` daemons on one data directory (one SQLite
 * file) with a policy naming two simulated accounts — "shop" (quiet payments, two regions) and "pay"
 * (the demo's bad checkout release) — so three shards. Each daemon runs one pipeline per shard behind
 * the shard's lease; /readyz and /metrics say, per shard, whether this daemon leads it.
 */
const SHARDS = ['shop/eu-west-1', 'shop/us-east-1', 'pay/eu-west-1'];
const running: DaemonProcess[] = [];
afterAll(() => {
  for (const d of running.splice(0)) d.child.kill('SIGKILL');
});

interface ShardReady {
  shard: string;
  ok: boolean;
  role: 'leader' | 'follower';
  why: string;
}
const ready = (d: DaemonProcess): Promise<{ ready: boolean; why: string; role?: string; shards?: ShardReady[] }> => getJson(`${d.url}/readyz`);
/** Each shard's leaders, as the daemons report them on /readyz. */
async function leaders(ds: readonly DaemonProcess[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(SHARDS.map((s) => [s, []]));
  for (const [i, d] of ds.entries()) for (const s of (await ready(d)).shards ?? []) if (s.role === 'leader') out.get(s.shard)?.push(i);
  return out;
}

describe('three daemons, two simulated accounts, one store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-3d-'));
  const policy = demoPolicyFile(dir, (doc) => {
    doc['pipeline'] = { ...(doc['pipeline'] ?? {}), leaseTtl: '3s' };
    doc['accounts'] = [
      { name: 'shop', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], services: ['payments'], scenario: resolve('test/shard/fixtures/quiet-payments.yaml') },
      { name: 'pay', id: '222222222222', regions: ['eu-west-1'], services: ['checkout'] },
    ];
  });
  const ds: DaemonProcess[] = [];

  it('every shard gets exactly one leader among the three daemons, each holding one; /readyz and /metrics say so per shard', async () => {
    const started = await Promise.all([0, 1, 2].map(() => startDaemonProcess(['--policy', policy, '--data-dir', dir, '--speed', '120'], {}, 90_000)));
    running.push(...started);
    ds.push(...started);
    const spread = await waitFor('one leader per shard, one shard per daemon', async () => {
      const l = await leaders(ds);
      const one = [...l.values()].every((xs) => xs.length === 1);
      const each = new Set([...l.values()].flat()).size === 3;
      return one && each ? l : null;
    }, 30_000);
    expect([...spread.keys()].sort()).toEqual([...SHARDS].sort());
    for (const d of ds) {
      const r = await ready(d);
      expect(r.ready).toBe(true);
      expect(r.shards?.map((s) => s.shard).sort()).toEqual([...SHARDS].sort());
      expect(r.role).toBe('leader');
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      for (const s of SHARDS) expect(metrics).toMatch(new RegExp(`cloudops_shard_leader\\{shard="${s}",lease="[^"]+"\\} [01]`));
      expect(metrics).toMatch(/cloudops_shard_live_tasks 3/);
      // The shard this daemon leads shows 1, the others 0.
      const mine = r.shards?.filter((s) => s.role === 'leader').map((s) => s.shard) ?? [];
      expect(mine).toHaveLength(1);
      expect(metrics).toContain(`cloudops_shard_leader{shard="${mine[0]}"`);
      expect(metrics).toMatch(new RegExp(`cloudops_shard_leader\\{shard="${mine[0]}",lease="[^"]+"\\} 1`));
    }
  }, 150_000);

  it('account pay\'s bad release opens one incident named pay/eu-west-1; approved on a daemon that does not lead that shard, it runs once', async () => {
    const inc = await waitFor('a proposal awaiting approval', async () => (await getJson(`${ds[0]?.url}/api/incidents?state=awaiting_approval`)).incidents[0], 60_000);
    expect((await getJson(`${ds[0]?.url}/api/incidents/${inc.id}`)).incident).toMatchObject({ service: 'checkout', account: 'pay', region: 'eu-west-1' });
    const payLeader = (await leaders(ds)).get('pay/eu-west-1')?.[0];
    const elsewhere = ds.find((_, i) => i !== payLeader) as DaemonProcess;
    const res = await fetch(`${elsewhere.url}/api/incidents/${inc.id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
      body: JSON.stringify({ runbookHash: inc.runbookHash }),
    });
    expect(res.status).toBeLessThan(300);
    const done = await waitFor('the incident resolved', async () => {
      const i = (await getJson(`${ds[0]?.url}/api/incidents/${inc.id}`)).incident;
      return i?.state === 'resolved' ? i : null;
    }, 90_000);
    expect(done.state).toBe('resolved');
    // Each step claimed once (no double execution across the three daemons).
    expect(done.steps.length).toBeGreaterThanOrEqual(1);
    expect(stepsStarted(dir).filter((s) => s.incidentId === inc.id)).toHaveLength(done.steps.length);
    // Incidents only in account pay: the quiet shop shards opened none.
    const listed = (await getJson(`${ds[0]?.url}/api/incidents`)).incidents as { id: string }[];
    const accounts = await Promise.all(listed.map(async (i) => (await getJson(`${ds[0]?.url}/api/incidents/${i.id}`)).incident.account as string));
    expect(accounts.length).toBeGreaterThanOrEqual(1);
    expect(accounts.every((a) => a === 'pay')).toBe(true);
  }, 200_000);
});
