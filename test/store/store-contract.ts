import { afterEach, describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Decision, Incident } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { StaleFencingTokenError } from '../../src/store/lease.js';
import { nextVersion, StoreConflictError, type AuditInput, type Silence, type Store } from '../../src/store/store.js';

/**
 * The behaviour every Store must have, run over each implementation (SQLite in `npm test`, DynamoDB
 * against moto in `npm run test:aws`). A backend supplies a fresh, empty store and raw access around it
 * (what someone with write access to the database could do) so tampering is tested the same way.
 */
export interface StoreHarness {
  readonly store: Store;
  readonly tamper: {
    /** Rewrites the data of one audit record of the incident's trail, bypassing the store. */
    alterAuditData(incidentId: string, seq: number, data: Record<string, unknown>): Promise<void>;
    /** Deletes one audit record of the incident's trail. */
    deleteAudit(incidentId: string, seq: number): Promise<void>;
    /** Deletes the checkpoint that anchors the incident's trail head. */
    deleteAuditCheckpoint(incidentId: string): Promise<void>;
  };
  close(): Promise<void>;
}

const T = 1_800_000_000_000 as EpochMs;
const at = (n: number): EpochMs => (T + n) as EpochMs;

export function incidentFor(id: string, service = 'checkout', openedAt: EpochMs = T): Incident {
  return newIncident(id, service, [{ metricId: 'm', metricName: 'M', direction: 'up', startedAt: openedAt, lastAnomalousAt: openedAt, clearedAt: null, peakScore: 1, peakValue: 10, expected: 1 }], openedAt);
}
const entry = (incidentId: string | null, kind: string, n = 0): AuditInput => ({ at: at(n), incidentId, kind, actor: 'test', data: { n } });
const decision = (over: Partial<Decision> = {}): Decision => ({ incidentId: 'inc-d', approver: 'alice', verdict: 'approve', runbookHash: 'sha256:x', at: T, channel: 'web', identity: 'token:alice', ...over });
const silence = (id: string, endsAt: number): Silence => ({ id, matchers: { service: 'checkout' }, author: 'alice', reason: 'deploy', startsAt: T, endsAt: at(endsAt), createdAt: T });

export function storeContract(name: string, make: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let open: StoreHarness[] = [];
    const fresh = async (): Promise<StoreHarness> => {
      const h = await make();
      open.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of open) await h.close();
      open = [];
    });

    it('creates, reads back and lists an incident; an unknown id reads as null', async () => {
      const { store } = await fresh();
      const inc = incidentFor('inc-1');
      await store.createIncident(inc, entry('inc-1', 'incident.opened'));
      expect(await store.getIncident('inc-1')).toEqual(inc);
      expect(await store.getIncident('nope')).toBeNull();
      expect((await store.listAudit({ incidentId: 'inc-1' })).map((r) => r.kind)).toEqual(['incident.opened']);
    });

    it('lists the incidents of one account and region when asked (the limit counts only theirs); unplaced incidents are the home account\'s', async () => {
      const { store } = await fresh();
      const home = { name: 'shop', region: 'eu-west-1' };
      // Newest first: many incidents of another place opened after the one asked for, so a limited read filtered afterwards would miss it.
      const pay = { ...incidentFor('pay-1', 'checkout', at(1)), account: 'pay', region: 'eu-west-1' };
      await store.createIncident(pay, entry('pay-1', 'incident.opened'));
      for (let i = 0; i < 5; i++) {
        const other = { ...incidentFor(`us-${i}`, 'checkout', at(10 + i)), account: 'shop', region: 'us-east-1' };
        await store.createIncident(other, entry(other.id, 'incident.opened'));
      }
      await store.createIncident(incidentFor('old-1', 'checkout', at(2)), entry('old-1', 'incident.opened'));
      await store.createIncident({ ...incidentFor('home-1', 'checkout', at(3)), account: 'shop', region: 'eu-west-1' }, entry('home-1', 'incident.opened'));
      const ids = async (account: string, region: string, limit?: number): Promise<string[]> =>
        (await store.listIncidents({ place: { account, region, home }, ...(limit ? { limit } : {}) })).map((i) => i.id);
      expect(await ids('pay', 'eu-west-1', 1)).toEqual(['pay-1']);
      expect(await ids('shop', 'eu-west-1')).toEqual(['home-1', 'old-1']);
      expect((await ids('shop', 'us-east-1', 2)).length).toBe(2);
      expect(await ids('nobody', 'eu-west-1')).toEqual([]);
      // With a state and a service as well.
      expect((await store.listIncidents({ states: ['detected'], service: 'checkout', place: { account: 'pay', region: 'eu-west-1', home } })).map((i) => i.id)).toEqual(['pay-1']);
    });

    it('refuses a second incident with the same id and keeps the first', async () => {
      const { store } = await fresh();
      const inc = incidentFor('inc-1');
      await store.createIncident(inc, entry('inc-1', 'incident.opened'));
      await expect(store.createIncident({ ...inc, reason: 'other' }, entry('inc-1', 'incident.opened'))).rejects.toThrow();
      expect(await store.getIncident('inc-1')).toEqual(inc);
      expect(await store.listAudit({ incidentId: 'inc-1' })).toHaveLength(1);
    });

    it('refuses a write based on a stale version with StoreConflictError, keeps the winner and no audit record of the loser', async () => {
      const { store } = await fresh();
      const inc = incidentFor('inc-1');
      await store.createIncident(inc, entry('inc-1', 'incident.opened'));
      const a = { ...nextVersion(inc, at(1)), state: 'drafting' as const };
      const b = { ...nextVersion(inc, at(1)), state: 'withdrawn' as const };
      await store.updateIncident(a, entry('inc-1', 'incident.transition', 1));
      const err = await store.updateIncident(b, entry('inc-1', 'incident.transition', 2)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflictError);
      expect(err).toMatchObject({ incidentId: 'inc-1', expectedVersion: 1, actualVersion: 2 });
      expect(await store.getIncident('inc-1')).toEqual(a);
      expect((await store.listAudit({ incidentId: 'inc-1' })).map((r) => r.data['n'])).toEqual([0, 1]);
    });

    it('an update of an incident that does not exist is a conflict with no current version', async () => {
      const { store } = await fresh();
      const inc = nextVersion(incidentFor('ghost'), T);
      await expect(store.updateIncident(inc, entry('ghost', 'incident.transition'))).rejects.toMatchObject({ name: 'StoreConflictError', actualVersion: null });
      expect(await store.getIncident('ghost')).toBeNull();
    });

    it('of two concurrent writers on one version exactly one wins', async () => {
      const { store } = await fresh();
      const inc = incidentFor('inc-1');
      await store.createIncident(inc, entry('inc-1', 'incident.opened'));
      const writes = (['drafting', 'withdrawn', 'needs_human'] as const).map((state, i) => store.updateIncident({ ...nextVersion(inc, at(1)), state }, entry('inc-1', 'incident.transition', i + 1)));
      const results = await Promise.allSettled(writes);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreConflictError);
      expect((await store.getIncident('inc-1'))?.version).toBe(2);
      expect(await store.listAudit({ incidentId: 'inc-1' })).toHaveLength(2);
    });

    it('lists incidents newest first, filtered by state and service, up to a limit', async () => {
      const { store } = await fresh();
      const rows: [string, string, number, Incident['state']][] = [
        ['a', 'checkout', 1, 'detected'],
        ['b', 'checkout', 3, 'resolved'],
        ['c', 'search', 2, 'detected'],
        ['d', 'checkout', 4, 'awaiting_approval'],
        ['e', 'checkout', 4, 'detected'],
      ];
      for (const [id, svc, t, state] of rows) {
        const inc = incidentFor(id, svc, at(t));
        await store.createIncident(inc, entry(id, 'incident.opened', t));
        if (state !== 'detected') await store.updateIncident({ ...nextVersion(inc, at(t)), state }, entry(id, 'incident.transition', t));
      }
      const ids = (l: Incident[]) => l.map((i) => i.id);
      expect(ids(await store.listIncidents())).toEqual(['e', 'd', 'b', 'c', 'a']);
      expect(ids(await store.listIncidents({ states: ['detected', 'awaiting_approval'] }))).toEqual(['e', 'd', 'c', 'a']);
      expect(ids(await store.listIncidents({ states: ['detected'], service: 'checkout' }))).toEqual(['e', 'a']);
      expect(ids(await store.listIncidents({ limit: 2 }))).toEqual(['e', 'd']);
      expect(ids(await store.listIncidents({ states: [] }))).toEqual([]);
      expect((await store.listIncidents({ states: ['awaiting_approval'] }))[0]?.state).toBe('awaiting_approval');
    });

    it('keeps one decision per approver, incident and runbook hash; a second comes back as existing with no audit record', async () => {
      const { store } = await fresh();
      const d = decision();
      expect(await store.addDecision(d, entry('inc-d', 'decision.recorded', 1))).toEqual({ added: true });
      expect(await store.addDecision({ ...d, verdict: 'reject', at: at(5) }, entry('inc-d', 'decision.recorded', 2))).toEqual({ added: false, existing: d });
      const bob = decision({ approver: 'bob', at: at(-1) });
      const newHash = decision({ runbookHash: 'sha256:y', at: at(2) });
      expect(await store.addDecision(bob, entry('inc-d', 'decision.recorded', 3))).toEqual({ added: true });
      expect(await store.addDecision(newHash, entry('inc-d', 'decision.recorded', 4))).toEqual({ added: true });
      expect(await store.listDecisions('inc-d')).toEqual([bob, d, newHash]);
      expect(await store.listDecisions('other')).toEqual([]);
      expect((await store.listAudit({ incidentId: 'inc-d' })).map((r) => r.data['n'])).toEqual([1, 3, 4]);
    });

    it('chains audit records by hash, lists them per incident and verifies the whole trail', async () => {
      const { store } = await fresh();
      for (let i = 0; i < 5; i++) await store.appendAudit(entry('inc-a', `k${i}`, i));
      await store.appendAudit(entry(null, 'daemon.started', 5));
      await store.appendAudit(entry('inc-b', 'k', 6));
      const recs = await store.listAudit({ incidentId: 'inc-a' });
      expect(recs.map((r) => r.kind)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
      expect(recs[1]?.prevHash).toBe(recs[0]?.hash);
      expect(new Set(recs.map((r) => r.seq)).size).toBe(5);
      expect(await store.listAudit({ incidentId: 'inc-a', limit: 2 })).toEqual(recs.slice(0, 2));
      const all = await store.listAudit();
      expect(all).toHaveLength(7);
      expect(all.filter((r) => r.incidentId === 'inc-a')).toEqual(recs);
      expect(all.find((r) => r.incidentId === null)?.kind).toBe('daemon.started');
      expect(await store.verifyAudit()).toEqual({ ok: true, records: 7 });
    });

    it('an empty store verifies with no records', async () => {
      const { store } = await fresh();
      expect(await store.verifyAudit()).toEqual({ ok: true, records: 0 });
    });

    it('verify names an altered record', async () => {
      const { store, tamper } = await fresh();
      for (let i = 0; i < 4; i++) await store.appendAudit(entry('inc-t', `k${i}`, i));
      const third = (await store.listAudit({ incidentId: 'inc-t' }))[2];
      await tamper.alterAuditData('inc-t', third?.seq ?? 3, { n: 99 });
      const v = await store.verifyAudit();
      expect(v).toMatchObject({ ok: false, firstBadSeq: third?.seq, problem: expect.stringMatching(/content does not match its hash/) as unknown });
    });

    it('verify catches a trail whose last records were cut off, and one whose head checkpoint was deleted', async () => {
      const cut = await fresh();
      for (let i = 0; i < 5; i++) await cut.store.appendAudit(entry('inc-t', `k${i}`, i));
      const last = (await cut.store.listAudit({ incidentId: 'inc-t' }))[4];
      await cut.tamper.deleteAudit('inc-t', last?.seq ?? 5);
      expect(await cut.store.verifyAudit()).toMatchObject({ ok: false, firstBadSeq: last?.seq, problem: expect.stringMatching(/truncated: the trail ends at record 4 but the checkpoint .* covers 5/) as unknown });

      const gone = await fresh();
      for (let i = 0; i < 3; i++) await gone.store.appendAudit(entry('inc-t', `k${i}`, i));
      await gone.tamper.deleteAuditCheckpoint('inc-t');
      expect(await gone.store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/no checkpoint anchors the chain head/) as unknown });
    });

    it('counts started steps since a time across incidents', async () => {
      const { store } = await fresh();
      await store.appendAudit(entry('inc-1', 'step.started', 0));
      await store.appendAudit(entry('inc-1', 'step.finished', 5));
      await store.appendAudit(entry('inc-2', 'step.started', 10));
      await store.appendAudit(entry('inc-3', 'step.started', 20));
      expect(await store.countStepsSince(at(0))).toBe(3);
      expect(await store.countStepsSince(at(10))).toBe(2);
      expect(await store.countStepsSince(at(21))).toBe(0);
    });

    it('adds, lists (by end) and expires silences; an unknown one is not expired; a duplicate id is refused', async () => {
      const { store } = await fresh();
      await store.addSilence(silence('sil-b', 200), entry(null, 'silence.added', 1));
      await store.addSilence(silence('sil-a', 100), entry(null, 'silence.added', 2));
      await expect(store.addSilence(silence('sil-a', 999), entry(null, 'silence.added', 3))).rejects.toThrow();
      expect((await store.listSilences()).map((s) => [s.id, s.endsAt])).toEqual([['sil-a', at(100)], ['sil-b', at(200)]]);
      expect(await store.expireSilence('sil-b', at(50), entry(null, 'silence.expired', 4))).toBe(true);
      expect(await store.expireSilence('sil-x', at(50), entry(null, 'silence.expired', 5))).toBe(false);
      expect((await store.listSilences()).map((s) => [s.id, s.endsAt])).toEqual([['sil-b', at(50)], ['sil-a', at(100)]]);
      expect((await store.listSilences())[0]).toEqual({ ...silence('sil-b', 200), endsAt: at(50) });
      expect((await store.listAudit()).map((r) => r.data['n'])).toEqual([1, 2, 4]);
    });

    it('stores named values one by one and many in one call; missing keys are absent', async () => {
      const { store } = await fresh();
      expect(await store.getValue('x')).toBeNull();
      await store.setValue('x', { a: 1 });
      await store.setValue('x', { a: 2 });
      expect(await store.getValue('x')).toEqual({ a: 2 });
      await store.setValues({ a: { x: 1 }, b: [1, 2], c: 'text', d: 0 });
      const got = await store.getValues<unknown>(['a', 'b', 'c', 'd', 'missing', 'a']);
      expect(Object.fromEntries(got)).toEqual({ a: { x: 1 }, b: [1, 2], c: 'text', d: 0 });
      await store.setValues({});
      // More than one DynamoDB transaction or batch holds.
      const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`detector:m${i}`, { run: i }]));
      await store.setValues(many);
      const back = await store.getValues<{ run: number }>(Object.keys(many));
      expect(back.size).toBe(250);
      expect(back.get('detector:m249')).toEqual({ run: 249 });
    });

    it('keeps a large value', async () => {
      const { store } = await fresh();
      const big = { points: Array.from({ length: 20_000 }, (_, i) => ({ t: i, v: Math.sin(i) })) };
      await store.setValue('big', big);
      expect(await store.getValue('big')).toEqual(big);
    });
  });
}

export interface LeaseHarness {
  /** The store whose leases these are (fenced incident writes are checked against them). */
  readonly leases: Store;
  close(): Promise<void>;
}

/** The lease port (src/store/lease.ts): one holder, renewals keep the token, takeovers raise it. */
export function leaseContract(name: string, make: () => Promise<LeaseHarness>): void {
  describe(`Lease contract: ${name}`, () => {
    let open: LeaseHarness[] = [];
    const fresh = async (): Promise<Store> => {
      const h = await make();
      open.push(h);
      return h.leases;
    };
    afterEach(async () => {
      for (const h of open) await h.close();
      open = [];
    });

    it('a free lease is taken; another owner is told who holds it until it expires', async () => {
      const l = await fresh();
      expect(await l.readLease('leader')).toBeNull();
      const a = await l.acquireLease('leader', 'task-a', T, 10_000);
      expect(a).toMatchObject({ held: true, lease: { name: 'leader', owner: 'task-a', expiresAt: at(10_000), acquiredAt: T } });
      const b = await l.acquireLease('leader', 'task-b', at(9_999), 10_000);
      expect(b).toMatchObject({ held: false, holder: { owner: 'task-a' } });
      expect(await l.readLease('leader')).toMatchObject({ owner: 'task-a' });
    });

    it('a renewal keeps the token and moves the expiry', async () => {
      const l = await fresh();
      const a = await l.acquireLease('leader', 'task-a', T, 10_000);
      const r = await l.acquireLease('leader', 'task-a', at(5_000), 10_000);
      expect(r).toMatchObject({ held: true, lease: { owner: 'task-a', expiresAt: at(15_000) } });
      if (!a.held || !r.held) throw new Error('expected held');
      expect(r.lease.token).toBe(a.lease.token);
      expect(await l.acquireLease('leader', 'task-b', at(12_000), 10_000)).toMatchObject({ held: false });
    });

    it('after expiry another owner takes over with a larger token and the former holder cannot renew', async () => {
      const l = await fresh();
      const a = await l.acquireLease('leader', 'task-a', T, 10_000);
      const b = await l.acquireLease('leader', 'task-b', at(10_001), 10_000);
      if (!a.held || !b.held) throw new Error('expected held');
      expect(b.lease.token).toBeGreaterThan(a.lease.token);
      // The paused former leader wakes up and tries to renew.
      expect(await l.acquireLease('leader', 'task-a', at(10_002), 10_000)).toMatchObject({ held: false, holder: { owner: 'task-b', token: b.lease.token } });
      expect(await l.releaseLease('leader', 'task-a', a.lease.token)).toBe(false);
      expect(await l.readLease('leader')).toMatchObject({ owner: 'task-b' });
    });

    it('a release frees the lease at once; tokens never go back', async () => {
      const l = await fresh();
      const a = await l.acquireLease('leader', 'task-a', T, 60_000);
      if (!a.held) throw new Error('expected held');
      expect(await l.releaseLease('leader', 'task-a', a.lease.token + 1)).toBe(false);
      expect(await l.releaseLease('leader', 'task-a', a.lease.token)).toBe(true);
      expect(await l.readLease('leader')).toBeNull();
      const b = await l.acquireLease('leader', 'task-b', at(1), 60_000);
      if (!b.held) throw new Error('expected held');
      expect(b.lease.token).toBeGreaterThan(a.lease.token);
      const tokens = [b.lease.token];
      for (let i = 0; i < 4; i++) {
        const r = await l.acquireLease('leader', `task-${i}`, at(100_000 * (i + 1)), 60_000);
        if (!r.held) throw new Error('expected held');
        tokens.push(r.lease.token);
      }
      expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
      expect(new Set(tokens).size).toBe(tokens.length);
    });

    it('of several owners racing for a free lease exactly one gets it', async () => {
      const l = await fresh();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => l.acquireLease('leader', `task-${i}`, T, 10_000)));
      const winners = results.filter((r) => r.held);
      expect(winners).toHaveLength(1);
      const holder = await l.readLease('leader');
      expect(holder?.owner).toBe(winners[0]?.held ? winners[0].lease.owner : '');
    });

    it('a fenced write lands under the current token and is refused, with nothing written, under a stale or released one', async () => {
      const s = await fresh();
      await s.createIncident(incidentFor('inc-f'), entry('inc-f', 'incident.opened'));
      const a = await s.acquireLease('leader', 'task-a', T, 10_000);
      if (!a.held) throw new Error('expected held');
      const v1 = { ...incidentFor('inc-f'), version: 2, reason: 'claimed by a' };
      await s.updateIncident(v1, entry('inc-f', 'step.started', 1), { lease: 'leader', token: a.lease.token });
      const b = await s.acquireLease('leader', 'task-b', at(10_001), 10_000);
      if (!b.held) throw new Error('expected held');
      // The paused former leader wakes and claims the next step with its old token.
      const stale = { ...v1, version: 3, reason: 'claimed by a again' };
      await expect(s.updateIncident(stale, entry('inc-f', 'step.started', 2), { lease: 'leader', token: a.lease.token })).rejects.toBeInstanceOf(StaleFencingTokenError);
      expect((await s.getIncident('inc-f'))?.reason).toBe('claimed by a');
      expect((await s.listAudit({ incidentId: 'inc-f' })).map((r) => r.data['n'])).toEqual([0, 1]);
      await s.updateIncident({ ...v1, version: 3, reason: 'claimed by b' }, entry('inc-f', 'step.started', 3), { lease: 'leader', token: b.lease.token });
      expect(await s.releaseLease('leader', 'task-b', b.lease.token)).toBe(true);
      await expect(s.updateIncident({ ...v1, version: 4, reason: 'after release' }, entry('inc-f', 'step.started', 4), { lease: 'leader', token: b.lease.token })).rejects.toBeInstanceOf(StaleFencingTokenError);
      expect((await s.getIncident('inc-f'))?.reason).toBe('claimed by b');
    });

    it('leases of different names are independent', async () => {
      const l = await fresh();
      expect((await l.acquireLease('shard-1', 'task-a', T, 10_000)).held).toBe(true);
      expect((await l.acquireLease('shard-2', 'task-b', T, 10_000)).held).toBe(true);
      expect((await l.acquireLease('shard-1', 'task-b', T, 10_000)).held).toBe(false);
    });
  });
}
