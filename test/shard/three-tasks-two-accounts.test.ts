import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/compose.js';
import { ManualClock } from '../../src/core/clock.js';
import { MINUTE, addMs, epochMs } from '../../src/core/time.js';
import { SimStateFile } from '../../src/cloud/sim/index.js';
import type { Incident } from '../../src/incident/incident.js';
import { ShardLeases } from '../../src/pipeline/shard-leases.js';
import { shardStore } from '../../src/pipeline/shard-store.js';
import { ShardWatchers } from '../../src/pipeline/shard-watchers.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { CompiledShard } from '../../src/policy/compile.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { DEMO_T0, demoFiles } from '../helpers/fast-world.js';
import { RecordingNotifier } from '../helpers/sim-harness.js';

/**
 * Issue 16 item 5, in the words: three tasks and two simulated accounts. Account "shop" (quiet
 * payments, two regions) and account "pay" (the demo's bad checkout release) make three shards; three
 * tasks share one SQLite file, each with its own simulated cloud per shard, its own shard leases and one
 * pipeline per shard. Lease and pipeline time are one manual clock, so every step is deterministic.
 */
const SECOND = 1000;
const TTL = 5 * MINUTE;
const files = demoFiles((doc) => {
  doc.accounts = [
    { name: 'shop', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], roleArn: 'arn:aws:iam::111111111111:role/cloudops-watcher', services: ['payments'], scenario: '../test/shard/fixtures/quiet-payments.yaml' },
    { name: 'pay', id: '222222222222', regions: ['eu-west-1'], roleArn: 'arn:aws:iam::222222222222:role/cloudops-watcher', externalId: 'cloudops-pay', services: ['checkout'] },
  ];
  doc.pipeline.leaseTtl = '5m';
});
const policy = files.policy;

interface Task {
  readonly name: string;
  readonly store: SqliteStore;
  readonly leases: ShardLeases;
  readonly watchers: ShardWatchers;
  readonly notifier: RecordingNotifier;
  alive: boolean;
}

describe('three tasks, two simulated accounts, one store', () => {
  const clock = new ManualClock(addMs(DEMO_T0, MINUTE));
  const dir = mkdtempSync(join(tmpdir(), 'shards-'));
  const tasks: Task[] = [];
  /** One simulated cloud per shard (account and region), shared by the tasks as a real account would be. */
  const clouds = new Map<string, World>();
  let cloudStore: SqliteStore | null = null;

  function task(i: number): Task {
    const store = new SqliteStore(join(dir, 'shared.db'));
    const leases = new ShardLeases({ store, owner: `task-${i}`, shards: policy.shards.map((s) => ({ key: s.key, lease: s.lease ?? '' })), ttlMs: TTL, clock, monotonic: clock.monotonic, logger: pino({ level: 'silent' }) });
    const notifier = new RecordingNotifier();
    const watchers = new Map<string, Watcher>();
    for (const shard of policy.shards) {
      // The task's own store connection, seen as the shard sees it; the cloud is the one all tasks watch.
      const cloud = clouds.get(shard.key) as World;
      watchers.set(shard.key, new Watcher({ ...cloud.deps, store: shardStore(store, shard, policy.doc.account), notifiers: [notifier], gate: leases.gate(shard.key), fence: () => leases.fence(shard.key) }));
    }
    return { name: `task-${i}`, store, leases, watchers: new ShardWatchers(policy, store, watchers), notifier, alive: true };
  }

  /** One step of time: every live task renews its shard leases, then runs a cycle of each shard's pipeline. */
  async function step(ms: number): Promise<void> {
    clock.advance(ms);
    for (const t of tasks) if (t.alive) await t.leases.round();
    for (const t of tasks) if (t.alive) await t.watchers.runCycle();
  }

  const holders = (key: string): string[] => tasks.filter((t) => t.alive && t.leases.isLeader(key)).map((t) => t.name);
  const shardOfPay = (): CompiledShard => policy.shards.find((s) => s.account.name === 'pay') as CompiledShard;
  const all = (): Promise<Incident[]> => (tasks[0] as Task).store.listIncidents({});
  /** Actions that reached any simulated cloud of any task. */
  const simActions = (s: CompiledShard) => new SimStateFile(join(dir, 'cloud', `sim-state-${s.account.name}-${s.region}.json`)).data.actions;
  const actionsTaken = () => policy.shards.flatMap((s) => simActions(s));

  beforeAll(() => {
    cloudStore = new SqliteStore(join(dir, 'shared.db'));
    for (const shard of policy.shards) {
      clouds.set(shard.key, buildWorld(policy, { store: cloudStore, logger: pino({ level: 'silent' }), notifiers: () => [], publicUrl: 'http://127.0.0.1:0', dataDir: join(dir, 'cloud'), clock, shard }));
    }
    for (let i = 0; i < 3; i++) tasks.push(task(i));
  });
  afterAll(async () => {
    for (const t of tasks) {
      t.watchers.stop();
      await t.store.close();
    }
    for (const w of clouds.values()) w.release();
    await cloudStore?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the three tasks spread the three shards: every shard has exactly one leader', async () => {
    await step(0);
    await step(0); // the first pass of the earlier tasks counted fewer members: one more pass evens it out
    for (const s of policy.shards) expect(holders(s.key)).toHaveLength(1);
    expect(tasks.map((t) => t.leases.held().length)).toEqual([1, 1, 1]);
  });

  it('the bad release in account pay is detected once, named with account pay and its region, and proposed', async () => {
    let inc: Incident | undefined;
    for (let i = 0; i < 15 && !inc; i++) {
      await step(MINUTE);
      for (const s of policy.shards) expect(holders(s.key)).toHaveLength(1);
      inc = (await all()).find((x) => x.state === 'awaiting_approval');
    }
    expect(inc).toBeDefined();
    const incidents = await all();
    expect(incidents).toHaveLength(1);
    expect(inc).toMatchObject({ service: 'checkout', account: 'pay', region: 'eu-west-1' });
    expect(inc?.correlation?.suspect?.deployment.id).toBe('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    // Only the pay shard's leader announced it: one proposal, from one task.
    const announcers = tasks.filter((t) => t.notifier.sent.some((a) => a.kind === 'proposal'));
    expect(announcers.map((t) => t.name)).toEqual(holders(shardOfPay().key));
  });

  it('an approval landing on a task that does not hold the shard is recorded; the shard\'s leader executes it exactly once', async () => {
    const inc = (await all())[0] as Incident;
    const leader = holders(shardOfPay().key)[0];
    const elsewhere = tasks.find((t) => t.name !== leader) as Task;
    const res = await elsewhere.watchers.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'api', identity: 'token:alice' });
    expect(res.decision.approver).toBe('alice');
    expect(res.outcome).toBe('waiting'); // a follower of this shard only records
    for (let i = 0; i < 12; i++) {
      await step(MINUTE);
      const now = (await all())[0] as Incident;
      if (now.state === 'resolved') break;
    }
    const done = (await all())[0] as Incident;
    expect(done.state).toBe('resolved');
    const executed = actionsTaken();
    expect(executed).toHaveLength(done.steps.length);
    expect(executed.length).toBeGreaterThanOrEqual(1);
    // Every action ran in account pay's cloud, none in account shop's; only the shard's leader claimed steps.
    expect(policy.shards.filter((s) => simActions(s).length > 0).map((s) => s.key)).toEqual([shardOfPay().key]);
    const claims = (await (tasks[0] as Task).store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'step.started');
    expect(claims.length).toBe(executed.length);
  });

  it('killing the task that holds a shard: another task takes it over within the lease TTL, and each shard still has one leader', async () => {
    const key = shardOfPay().key;
    const victim = tasks.find((t) => t.leases.isLeader(key)) as Task;
    victim.alive = false; // SIGKILL in spirit: no more renewals, nothing released
    const lastRenewal = clock.now();
    let takenAt: number | null = null;
    for (let i = 0; i < 60 && takenAt === null; i++) {
      await step(10 * SECOND);
      if (holders(key).length === 1) takenAt = clock.now();
    }
    expect(takenAt).not.toBeNull();
    expect((takenAt as number) - lastRenewal).toBeLessThanOrEqual(TTL + 10 * SECOND);
    await step(10 * SECOND);
    for (const s of policy.shards) expect(holders(s.key)).toHaveLength(1);
    expect(tasks.filter((t) => t.alive).map((t) => t.leases.held().length).sort()).toEqual([1, 2]);
    // Nothing ran twice through the takeover.
    const done = (await all())[0] as Incident;
    expect(actionsTaken()).toHaveLength(done.steps.length);
    expect(epochMs(clock.now())).toBeGreaterThan(lastRenewal);
  });
});

describe('the daemon and accounts', () => {
  it('runs a policy with accounts as shards: one pipeline per account and region, each behind its own lease, the lone daemon holding them all', async () => {
    const { startDemoDaemon } = await import('../helpers/demo-daemon.js');
    const d = await startDemoDaemon((doc) => (doc.accounts = [{ name: 'one', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], services: 'all' }]));
    try {
      expect(d.daemon.leader).toBeNull();
      expect(d.daemon.pipelines?.watchers.size).toBe(2);
      expect(d.daemon.shards?.held().sort()).toEqual(['one/eu-west-1', 'one/us-east-1']);
      const r = (await (await fetch(`${d.daemon.url}/readyz`)).json()) as { shards: { shard: string; role: string }[] };
      expect(r.shards.map((s) => [s.shard, s.role]).sort()).toEqual([['one/eu-west-1', 'leader'], ['one/us-east-1', 'leader']]);
    } finally {
      await d.close();
    }
  });
});
