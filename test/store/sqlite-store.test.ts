import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Decision } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { nextVersion, StoreConflictError } from '../../src/store/store.js';

const T = 1_800_000_000_000 as EpochMs;
const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), 'store-')), 'cloudops.db');
const incident = () => newIncident('checkout-1', 'checkout', [{ metricId: 'm', metricName: 'M', direction: 'up', startedAt: T, lastAnomalousAt: T, clearedAt: null, peakScore: 1, peakValue: 10, expected: 1 }], T);
const audit = (kind: string) => ({ at: T, incidentId: 'checkout-1', kind, actor: 'test', data: { n: 1 } });

describe('SqliteStore', () => {
  it('runs in WAL mode', () => {
    const file = tmpDb();
    const store = new SqliteStore(file);
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    void store.close();
  });

  it('refuses a write based on a stale version (optimistic concurrency) and keeps the winner', async () => {
    const store = new SqliteStore(tmpDb());
    const inc = incident();
    await store.createIncident(inc, audit('incident.opened'));
    const a = { ...nextVersion(inc, T), state: 'drafting' as const };
    const b = { ...nextVersion(inc, T), state: 'withdrawn' as const };
    await store.updateIncident(a, audit('incident.transition'));
    await expect(store.updateIncident(b, audit('incident.transition'))).rejects.toBeInstanceOf(StoreConflictError);
    expect((await store.getIncident(inc.id))?.state).toBe('drafting');
    // The losing write left no audit record behind.
    expect((await store.listAudit()).map((r) => r.kind)).toEqual(['incident.opened', 'incident.transition']);
  });

  it('keeps one decision per approver and runbook hash; a second comes back as existing', async () => {
    const store = new SqliteStore(tmpDb());
    const d: Decision = { incidentId: 'i', approver: 'alice', verdict: 'approve', runbookHash: 'sha256:x', at: T, channel: 'web', identity: 'token:alice' };
    expect(await store.addDecision(d, audit('decision.recorded'))).toEqual({ added: true });
    const again = await store.addDecision({ ...d, verdict: 'reject' }, audit('decision.recorded'));
    expect(again).toEqual({ added: false, existing: d });
    expect(await store.listDecisions('i')).toEqual([d]);
  });

  it('chains audit records by hash and verifies the chain', async () => {
    const store = new SqliteStore(tmpDb());
    for (let i = 0; i < 5; i++) await store.appendAudit(audit(`k${i}`));
    const recs = await store.listAudit();
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(recs[1]?.prevHash).toBe(recs[0]?.hash);
    expect(await store.verifyAudit()).toEqual({ ok: true, records: 5 });
  });

  it('the audit table refuses UPDATE and DELETE', async () => {
    const file = tmpDb();
    const store = new SqliteStore(file);
    await store.appendAudit(audit('k'));
    const db = new Database(file);
    expect(() => db.prepare("UPDATE audit SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    db.close();
  });

  it('cloudops audit verify exits non-zero and names the first altered record', async () => {
    const file = tmpDb();
    const store = new SqliteStore(file);
    for (let i = 0; i < 4; i++) await store.appendAudit(audit(`k${i}`));
    await store.close();
    const ok = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--db', file], { encoding: 'utf8' });
    expect(ok).toMatch(/audit chain intact: 4 records/);

    // Someone with write access to the file drops the guard and edits record 3.
    const db = new Database(file);
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare(`UPDATE audit SET data = '{"n":2}' WHERE seq = 3`).run();
    db.close();
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--db', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = (err as { stderr: string }).stderr;
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/audit chain BROKEN at record 3: its content does not match its hash/);
  });

  it('stores and reads back named values in one write', async () => {
    const store = new SqliteStore(tmpDb());
    await store.setValues({ a: { x: 1 }, b: [1, 2] });
    const got = await store.getValues<unknown>(['a', 'b', 'c']);
    expect(Object.fromEntries(got)).toEqual({ a: { x: 1 }, b: [1, 2] });
  });
});
