import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { epochMs, type EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { LEADER_LEASE, StaleFencingTokenError } from '../../src/store/lease.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { nextVersion } from '../../src/store/store.js';

const T0 = epochMs(Date.parse('2026-12-01T00:00:00Z'));
const TTL = 30_000;
const at = (ms: number): EpochMs => (T0 + ms) as EpochMs;
const open: SqliteStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
function store(path = ':memory:'): SqliteStore {
  const s = new SqliteStore(path, { auditKey: null });
  open.push(s);
  return s;
}

function incident(id: string): Incident {
  return { id, service: 'checkout', state: 'executing', version: 1, openedAt: T0, updatedAt: T0, steps: [], signals: [] } as unknown as Incident;
}

describe('SqliteStore leader lease', () => {
  it('acquire: a free lease is taken with token 1, and its holder can read it back', async () => {
    const s = store();
    const r = await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    expect(r).toEqual({ held: true, lease: { name: LEADER_LEASE, owner: 'a', token: 1, expiresAt: at(TTL), acquiredAt: T0 } });
    expect(await s.readLease(LEADER_LEASE)).toEqual({ name: LEADER_LEASE, owner: 'a', token: 1, expiresAt: at(TTL), acquiredAt: T0 });
    expect(await s.readLease('other')).toBeNull();
  });

  it('renew: the holder keeps its token and gets a later expiry', async () => {
    const s = store();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    const r = await s.acquireLease(LEADER_LEASE, 'a', at(10_000), TTL);
    expect(r).toEqual({ held: true, lease: { name: LEADER_LEASE, owner: 'a', token: 1, expiresAt: at(40_000), acquiredAt: T0 } });
  });

  it('a second owner is told who holds an unexpired lease, and nothing changes', async () => {
    const s = store();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    const r = await s.acquireLease(LEADER_LEASE, 'b', at(TTL - 1), TTL);
    expect(r).toEqual({ held: false, holder: { name: LEADER_LEASE, owner: 'a', token: 1, expiresAt: at(TTL), acquiredAt: T0 } });
    expect((await s.readLease(LEADER_LEASE))?.owner).toBe('a');
  });

  it('expire and take over: once expired another owner takes it with a larger token', async () => {
    const s = store();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    const r = await s.acquireLease(LEADER_LEASE, 'b', at(TTL), TTL);
    expect(r).toEqual({ held: true, lease: { name: LEADER_LEASE, owner: 'b', token: 2, expiresAt: at(2 * TTL), acquiredAt: at(TTL) } });
    // The former holder's renewal now only reports the new holder.
    const late = await s.acquireLease(LEADER_LEASE, 'a', at(TTL + 1), TTL);
    expect(late.held).toBe(false);
    expect(late.held ? null : late.holder?.owner).toBe('b');
  });

  it('token monotonic: every takeover, release or own lapse included, issues a larger token than all before', async () => {
    const s = store();
    const tokens: number[] = [];
    let t = 0;
    for (const owner of ['a', 'b', 'a', 'a', 'c', 'b']) {
      const r = await s.acquireLease(LEADER_LEASE, owner, at(t), TTL);
      if (!r.held) throw new Error('expected a takeover');
      tokens.push(r.lease.token);
      // Alternate between letting it lapse and releasing it.
      if (tokens.length % 2 === 0) expect(await s.releaseLease(LEADER_LEASE, owner, r.lease.token)).toBe(true);
      t += TTL + 1;
    }
    expect(tokens).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('release: only the holder with its token gives the lease up; the next owner need not wait, and gets a larger token', async () => {
    const s = store();
    const a = await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    if (!a.held) throw new Error('expected a');
    expect(await s.releaseLease(LEADER_LEASE, 'b', 1)).toBe(false);
    expect(await s.releaseLease(LEADER_LEASE, 'a', 7)).toBe(false);
    expect(await s.releaseLease(LEADER_LEASE, 'a', 1)).toBe(true);
    expect(await s.releaseLease(LEADER_LEASE, 'a', 1)).toBe(false);
    const b = await s.acquireLease(LEADER_LEASE, 'b', at(1), TTL);
    expect(b).toEqual({ held: true, lease: { name: LEADER_LEASE, owner: 'b', token: 2, expiresAt: at(1 + TTL), acquiredAt: at(1) } });
  });

  it('bad input gets a clear error and changes nothing', async () => {
    const s = store();
    await expect(s.acquireLease(LEADER_LEASE, '', T0, TTL)).rejects.toThrow(/lease owner must be 1-200 characters/);
    await expect(s.acquireLease('', 'a', T0, TTL)).rejects.toThrow(/lease name must be 1-200 characters/);
    await expect(s.acquireLease(LEADER_LEASE, 'a', T0, 0)).rejects.toThrow(/lease ttl must be a positive whole number of milliseconds, got 0/);
    await expect(s.acquireLease(LEADER_LEASE, 'a', T0, Number.NaN)).rejects.toThrow(/lease ttl/);
    await expect(s.acquireLease(LEADER_LEASE, 'a', -1 as EpochMs, TTL)).rejects.toThrow(/lease time must be epoch milliseconds/);
    const aborted = AbortSignal.abort(new Error('gone'));
    await expect(s.acquireLease(LEADER_LEASE, 'a', T0, TTL, aborted)).rejects.toThrow('gone');
    expect(await s.readLease(LEADER_LEASE)).toBeNull();
  });

  it('two connections on one file (two processes) see one holder: the second is refused until expiry', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cloudops-lease-')), 'store.db');
    const one = store(path);
    const two = store(path);
    expect((await one.acquireLease(LEADER_LEASE, 'a', T0, TTL)).held).toBe(true);
    expect((await two.acquireLease(LEADER_LEASE, 'b', at(5), TTL)).held).toBe(false);
    const b = await two.acquireLease(LEADER_LEASE, 'b', at(TTL), TTL);
    expect(b.held && b.lease.token).toBe(2);
    expect((await one.readLease(LEADER_LEASE))?.owner).toBe('b');
  });
});

describe('SqliteStore fenced writes', () => {
  async function seeded(): Promise<{ s: SqliteStore; inc: Incident }> {
    const s = store();
    const inc = incident('inc-1');
    await s.createIncident(inc, { at: T0, incidentId: inc.id, kind: 'incident.opened', actor: 't', data: {} });
    return { s, inc };
  }
  const claim = (inc: Incident) => ({ at: T0, incidentId: inc.id, kind: 'step.started', actor: 'executor', data: { step: 1 } });

  it('a claim with the current token is written with its audit record', async () => {
    const { s, inc } = await seeded();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    await s.updateIncident(nextVersion(inc, T0), claim(inc), { lease: LEADER_LEASE, token: 1 });
    expect((await s.getIncident(inc.id))?.version).toBe(2);
    expect((await s.listAudit({ incidentId: inc.id })).map((r) => r.kind)).toEqual(['incident.opened', 'step.started']);
  });

  it('stale token refused by the store in the write transaction: neither the incident nor the audit trail changes', async () => {
    const { s, inc } = await seeded();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    await s.acquireLease(LEADER_LEASE, 'b', at(TTL), TTL);
    const err = await s.updateIncident(nextVersion(inc, T0), claim(inc), { lease: LEADER_LEASE, token: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleFencingTokenError);
    expect(err).toMatchObject({ lease: LEADER_LEASE, token: 1, current: 2 });
    expect((await s.getIncident(inc.id))?.version).toBe(1);
    expect((await s.listAudit({ incidentId: inc.id })).map((r) => r.kind)).toEqual(['incident.opened']);
    expect(await s.verifyAudit()).toMatchObject({ ok: true });
  });

  it('a claim under a lease that does not exist, was never held (token 0) or was released is refused', async () => {
    const { s, inc } = await seeded();
    await expect(s.updateIncident(nextVersion(inc, T0), claim(inc), { lease: LEADER_LEASE, token: 1 })).rejects.toThrow(/fencing token 1 of lease leader is stale \(current: none\)/);
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    await expect(s.updateIncident(nextVersion(inc, T0), claim(inc), { lease: LEADER_LEASE, token: 0 })).rejects.toBeInstanceOf(StaleFencingTokenError);
    await s.releaseLease(LEADER_LEASE, 'a', 1);
    await expect(s.updateIncident(nextVersion(inc, T0), claim(inc), { lease: LEADER_LEASE, token: 1 })).rejects.toBeInstanceOf(StaleFencingTokenError);
    expect((await s.getIncident(inc.id))?.version).toBe(1);
  });

  it('an unfenced write is not affected by the lease (single-process callers)', async () => {
    const { s, inc } = await seeded();
    await s.acquireLease(LEADER_LEASE, 'a', T0, TTL);
    await s.acquireLease(LEADER_LEASE, 'b', at(TTL), TTL);
    await s.updateIncident(nextVersion(inc, T0), claim(inc));
    expect((await s.getIncident(inc.id))?.version).toBe(2);
  });
});
