import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { LEADER_LEASE, StaleFencingTokenError } from '../../src/store/lease.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { incidentFor } from '../store/store-contract.js';

/**
 * Issue 10 item 2, as an attacker would try it: two writers on one data directory (an ECS rolling deploy
 * on one EFS volume). The real-process version (SIGSTOP past the lease, SIGCONT) is test/process/two-daemons.
 * Here the two are two connections to one SQLite file: after a takeover, nothing the former leader claims lands.
 */
const T = 1_900_000_000_000 as EpochMs;

describe('adversarial: a second writer on the same store', () => {
  it("refuses the former leader's step claim after a takeover, and writes no step.started for it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'adv-lease-')), 'cloudops.db');
    const a = new SqliteStore(file, { auditKey: null });
    const b = new SqliteStore(file, { auditKey: null });
    await a.createIncident(incidentFor('inc-x'), { at: T, incidentId: 'inc-x', kind: 'incident.opened', actor: 'test', data: {} });
    const la = await a.acquireLease(LEADER_LEASE, 'daemon-a', T, 30_000);
    if (!la.held) throw new Error('a should lead');
    // b starts beside a live leader: it waits.
    expect((await b.acquireLease(LEADER_LEASE, 'daemon-b', (T + 1_000) as EpochMs, 30_000)).held).toBe(false);
    // a is paused past its lease; b takes over.
    const lb = await b.acquireLease(LEADER_LEASE, 'daemon-b', (T + 31_000) as EpochMs, 30_000);
    if (!lb.held) throw new Error('b should take over');
    expect(lb.lease.token).toBeGreaterThan(la.lease.token);
    // a wakes and claims step 1 with its old token: refused in the write's own transaction.
    const cur = (await a.getIncident('inc-x'))!;
    const claim = { ...cur, version: cur.version + 1, reason: 'step 1 claimed by a' };
    await expect(a.updateIncident(claim, { at: (T + 32_000) as EpochMs, incidentId: 'inc-x', kind: 'step.started', actor: 'executor', data: { step: 1 } }, { lease: LEADER_LEASE, token: la.lease.token })).rejects.toBeInstanceOf(StaleFencingTokenError);
    expect((await b.listAudit({ incidentId: 'inc-x' })).filter((r) => r.kind === 'step.started')).toEqual([]);
    // b's claim under its own token lands, exactly once.
    await b.updateIncident({ ...claim, reason: 'step 1 claimed by b' }, { at: (T + 33_000) as EpochMs, incidentId: 'inc-x', kind: 'step.started', actor: 'executor', data: { step: 1 } }, { lease: LEADER_LEASE, token: lb.lease.token });
    expect((await a.listAudit({ incidentId: 'inc-x' })).filter((r) => r.kind === 'step.started')).toHaveLength(1);
    expect(await a.verifyAudit()).toMatchObject({ ok: true });
    await a.close();
    await b.close();
  });
});
