import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/core/clock.js';
import { openGate, type PipelineDeps } from '../../src/pipeline/context.js';
import { ACT_FRACTION, LeaderElector } from '../../src/pipeline/leader.js';
import { registerLeaderMetrics } from '../../src/pipeline/metrics.js';
import { readiness } from '../../src/pipeline/readiness.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { LeaseStore } from '../../src/store/lease.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

const TTL = 30_000;
const silent = pino({ level: 'silent' });

function elector(store: LeaseStore, clock: ManualClock, owner: string, ttlMs = TTL): LeaderElector {
  return new LeaderElector({ store, owner, ttlMs, clock, monotonic: clock.monotonic, logger: silent });
}

/** A second process's pipeline on the same store and cloud, behind its own elector. */
function follower(w: FastWorld, e: LeaderElector): PipelineDeps {
  return { ...w.deps, gate: e.gate, fence: () => e.fence() };
}

async function proposed(w: FastWorld, watcher: Watcher): Promise<{ id: string; hash: string }> {
  const inc = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const p = await w.store.getIncident(inc.id);
  if (p?.state !== 'awaiting_approval' || !p.runbook) throw new Error(`not proposed: ${p?.state}`);
  return { id: p.id, hash: p.runbook.hash };
}

const approve = (watcher: Watcher, id: string, hash: string, approver = 'alice') =>
  watcher.decide({ incidentId: id, approver, verdict: 'approve', runbookHash: hash, channel: 'api', identity: `token:${approver}` });

describe('LeaderElector', () => {
  it('the first process leads; the second follows and says who holds the lease until when', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    expect((await a.renew()).role).toBe('leader');
    const sb = await b.renew();
    expect(sb.role).toBe('follower');
    expect(sb.why).toBe(`not the leader: lease held by a until ${new Date(w.clock.now() + TTL).toISOString()}`);
    expect(await a.gate({ now: w.clock.now(), deadline: w.clock.now(), signal: new AbortController().signal }, 'observe')).toBeNull();
    expect(await b.gate({ now: w.clock.now(), deadline: w.clock.now(), signal: new AbortController().signal }, 'observe')).toBe(sb.why);
    expect(a.fence()).toEqual({ lease: 'leader', token: 1 });
    expect(b.fence()).toEqual({ lease: 'leader', token: 0 });
  });

  it('a lone first lease is logged at info; a takeover from another task is a warning naming the task it came from', async () => {
    const w = fastWorld(demoFiles());
    const lines: { level: number; msg: string; from?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string; from?: string }) });
    const a = new LeaderElector({ store: w.store, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger });
    const b = new LeaderElector({ store: w.store, owner: 'b', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger });
    await a.renew();
    expect(lines.filter((l) => l.msg.startsWith('became the leader')).map((l) => l.level)).toEqual([30]);
    expect((await b.renew()).role).toBe('follower');
    w.clock.advance(TTL + 1);
    expect((await b.renew()).role).toBe('leader');
    const takeover = lines.filter((l) => l.msg.startsWith('took the lease over'));
    expect(takeover.map((l) => [l.level, l.from])).toEqual([[40, 'a']]);
    expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);
  });

  it('a follower takes over only after expiry, with a larger token; the old leader has stopped acting by its own clock before that', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    await a.renew();
    // a is paused (no renewals) — its own monotonic clock closes its gate at ACT_FRACTION of the TTL.
    w.clock.advance(TTL * ACT_FRACTION - 1);
    expect(a.isLeader()).toBe(true);
    w.clock.advance(1);
    expect(a.isLeader()).toBe(false);
    expect((await b.renew()).role).toBe('follower'); // not expired yet in the store
    w.clock.advance(TTL * (1 - ACT_FRACTION));
    const sb = await b.renew();
    expect(sb).toMatchObject({ role: 'leader', token: 2 });
    // a wakes up: its renewal reports b, and its fence (token 1) is stale.
    const sa = await a.renew();
    expect(sa.role).toBe('follower');
    expect(sa.why).toMatch(/^not the leader: lease held by b until /);
    expect(a.fence().token).toBe(1);
  });

  it('a renewal that fails or never answers keeps the leader only until its lease lapses by its own clock', async () => {
    const w = fastWorld(demoFiles());
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    const flaky: LeaseStore = {
      acquireLease: (...a) => (mode === 'ok' ? w.store.acquireLease(...a) : mode === 'fail' ? Promise.reject(new Error('database is locked')) : new Promise(() => undefined)),
      releaseLease: (...a) => w.store.releaseLease(...a),
      readLease: (...a) => w.store.readLease(...a),
    };
    const a = new LeaderElector({ store: flaky, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent, renewTimeoutMs: 50 });
    await a.renew();
    mode = 'fail';
    w.clock.advance(TTL / 3);
    expect((await a.renew()).role).toBe('leader');
    mode = 'hang';
    const t0 = performance.now();
    const hung = await a.renew();
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(hung.role).toBe('leader');
    w.clock.advance(TTL * ACT_FRACTION - TTL / 3);
    const lapsed = a.status();
    expect(lapsed.role).toBe('follower');
    expect(lapsed.why).toBe('not the leader: the lease could not be renewed (no answer within 50 ms) and has lapsed by this process\'s clock');
    // The store answers again: the lease had not expired there, so a keeps its token.
    mode = 'ok';
    expect(await a.renew()).toMatchObject({ role: 'leader', token: 1 });
  });

  it('clean shutdown releases the lease: the next process leads at once, with a larger token, and the old gate stays closed', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    await a.renew();
    a.start();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect(a.status().why).toBe('not the leader: the lease was given up (shutting down)');
    expect(await b.renew()).toMatchObject({ role: 'leader', token: 2 });
    expect((await a.renew()).role).toBe('follower');
  });

  it('the renewal loop renews every third of the TTL, so a leader left alone stays leader', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    await a.renew();
    a.start();
    for (let i = 0; i < 9; i++) {
      w.clock.advance(TTL / 3);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(a.isLeader()).toBe(true);
    expect((await w.store.readLease('leader'))?.expiresAt).toBeGreaterThan(w.clock.now());
    await a.stop();
  });

  it('a holder known to have died (on this machine) is taken over at once, with a larger token; one not known dead is waited for', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'crashed');
    await a.renew();
    const dead = new Set(['crashed']);
    const b = new LeaderElector({ store: w.store, owner: 'b', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent, ownerDead: (o) => dead.has(o) });
    const c = new LeaderElector({ store: w.store, owner: 'c', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent, ownerDead: (o) => dead.has(o) });
    expect(await b.renew()).toMatchObject({ role: 'leader', token: 2 });
    // b runs: c must wait for b's lease, and the crashed one's stale fence stays refused.
    expect((await c.renew()).role).toBe('follower');
    expect(a.fence().token).toBe(1);
  });

  it('refuses settings under which the lease would lapse between renewals', () => {
    const w = fastWorld(demoFiles());
    expect(() => new LeaderElector({ store: w.store, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent, renewEveryMs: 25_000 })).toThrow(/would let a 30000 ms lease lapse between renewals/);
    expect(() => elector(w.store, w.clock, '')).toThrow(/owner id must not be empty/);
    expect(() => elector(w.store, w.clock, 'a', 0)).toThrow(/lease ttl must be a positive number/);
  });

  it('/metrics shows leader status, token and lease age; /readyz says leader or follower', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    const ra = new Registry();
    const rb = new Registry();
    registerLeaderMetrics(ra, () => a.status());
    registerLeaderMetrics(rb, () => b.status());
    expect(await ra.metrics()).toMatch(/cloudops_lease_age_seconds -1/);
    await a.renew();
    await b.renew();
    w.clock.advance(4_000);
    const ma = await ra.metrics();
    expect(ma).toMatch(/^cloudops_leader 1$/m);
    expect(ma).toMatch(/^cloudops_lease_token 1$/m);
    expect(ma).toMatch(/^cloudops_lease_age_seconds 4$/m);
    expect(await rb.metrics()).toMatch(/^cloudops_leader 0$/m);
    const base = { phase: 'running' as const, lastSuccessMono: 1_000, lastError: null, nowMono: 2_000, maxAgeMs: 10_000 };
    expect(readiness({ ...base, leader: b.status() })).toEqual({ ok: true, role: 'follower', why: `last successful cycle 1 s ago; ${b.status().why}` });
    expect(readiness({ ...base, leader: a.status() })).toEqual({ ok: true, role: 'leader', why: 'last successful cycle 1 s ago; leader: holds lease leader (token 1)' });
  });
});

describe('one writer per store in the pipeline', () => {
  it('a follower holds every stage and only records decisions; the leader acts on them in its next cycle, once', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    await a.renew();
    await b.renew();
    const leader = new Watcher(follower(w, a));
    const other = new Watcher(follower(w, b));
    // The follower's cycle does nothing with a fresh incident; the leader's proposes it.
    const inc = await seedCheckoutIncident(w);
    await other.runCycle();
    expect((await w.store.getIncident(inc.id))?.state).toBe('detected');
    await leader.runCycle();
    const p = await w.store.getIncident(inc.id);
    if (!p?.runbook) throw new Error('not proposed');

    const res = await approve(other, p.id, p.runbook.hash);
    await other.queueIdle();
    expect(res.outcome).toBe('waiting');
    expect(await w.store.listDecisions(p.id)).toHaveLength(1);
    expect((await w.store.getIncident(p.id))?.state).toBe('awaiting_approval');
    expect(w.sim.executeCalls()).toBe(0);

    await leader.runCycle();
    await other.runCycle();
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.listAudit({ incidentId: p.id })).filter((r) => r.kind === 'step.started')).toHaveLength(1);
  });

  it('stale token refused: a former leader whose gate still opened cannot claim a step, executes nothing, and the new leader runs it once', async () => {
    const w = fastWorld(demoFiles());
    const a = elector(w.store, w.clock, 'a');
    const b = elector(w.store, w.clock, 'b');
    await a.renew();
    const leaderA = new Watcher(follower(w, a));
    const { id, hash } = await proposed(w, leaderA);
    // a is paused past its lease; b takes over.
    w.clock.advance(TTL + 1);
    await b.renew();
    // a wakes up between its gate check and its claim: model it with a gate that still lets it through.
    const wokenA = new Watcher({ ...w.deps, gate: openGate, fence: () => a.fence() });
    await approve(wokenA, id, hash);
    await wokenA.queueIdle();
    expect(w.sim.executeCalls()).toBe(0);
    const audit = await w.store.listAudit({ incidentId: id });
    expect(audit.filter((r) => r.kind === 'step.started')).toHaveLength(0);
    expect((await w.store.getIncident(id))?.steps).toEqual([]);

    const leaderB = new Watcher(follower(w, b));
    await leaderB.runCycle();
    expect(w.sim.executeCalls()).toBe(1);
    const started = (await w.store.listAudit({ incidentId: id })).filter((r) => r.kind === 'step.started');
    expect(started).toHaveLength(1);
    expect(started[0]?.data['fence']).toBe(2);
  });
});
