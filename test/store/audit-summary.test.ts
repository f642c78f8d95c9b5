import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { signCheckpoint, signSummary } from '../../src/store/audit-chain.js';
import { StoreRejectedError } from '../../src/store/errors.js';
import { SQLITE_CHAIN } from '../../src/store/sqlite-audit.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { nextVersion, type AuditInput } from '../../src/store/store.js';

const KEY = Buffer.from('audit-key-for-tests-0123456789abcdef');
const OTHER = Buffer.from('another-audit-key-0123456789abcdef!!');
const T = 1_800_000_000_000 as EpochMs;
const DAY = 86_400_000;
const at = (d: number): EpochMs => (T + d * DAY) as EpochMs;
const rec = (d: number, incidentId: string | null = null): AuditInput => ({ at: at(d), incidentId, kind: 'note', actor: 'test', data: { d } });
const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), 'cloudops-summary-')), 'audit.db');

/** Records 1–6 on days 0–5 (of no incident); record 7 opens incident `live` on day 6; records 8–9 on days 7–8. */
async function trail(file: string, key: Buffer | null = KEY): Promise<SqliteStore> {
  const store = new SqliteStore(file, { auditKey: key });
  for (let d = 0; d < 6; d++) await store.appendAudit(rec(d));
  await store.createIncident(newIncident('live', 'checkout', [], at(6)), rec(6, 'live'));
  for (let d = 7; d < 9; d++) await store.appendAudit(rec(d));
  return store;
}

function raw(file: string, sql: string, ...args: unknown[]): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS audit_no_delete; DROP TRIGGER IF EXISTS audit_no_update;');
  db.prepare(sql).run(...args);
  db.close();
}

async function verify(file: string, key: Buffer | null = KEY): Promise<Awaited<ReturnType<SqliteStore['verifyAnchoredAudit']>>> {
  const store = new SqliteStore(file, { auditKey: key });
  try {
    return await store.verifyAnchoredAudit();
  } finally {
    await store.close();
  }
}

/** A trail whose records 1–4 were removed (older than day 4) under a signed summary. */
async function pruned(): Promise<string> {
  const file = tmpDb();
  const store = await trail(file);
  expect(await store.pruneAudit(at(4), at(30))).toEqual({ removed: 4, through: 4 });
  await store.close();
  return file;
}

describe('audit records past retention go under a signed summary, and the trail still verifies (SQLite)', () => {
  it('removes the oldest records as one prefix; the chain verifies from the summary on, and goes on growing', async () => {
    const file = await pruned();
    const store = new SqliteStore(file, { auditKey: KEY });
    expect((await store.listAudit()).map((r) => r.seq)).toEqual([5, 6, 7, 8, 9]);
    expect(await store.auditSummary()).toMatchObject({ chain: SQLITE_CHAIN, seq: 4, at: at(30) });
    expect(await store.verifyAnchoredAudit()).toEqual({ ok: true, records: 5, anchor: 'signed', summarized: { through: 4, at: at(30) } });
    await store.appendAudit(rec(31));
    expect(await store.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 6 });
    await store.close();
  });

  it('stops at the first record of an incident still listed, and never removes the head', async () => {
    const file = tmpDb();
    const store = await trail(file);
    // Everything is older than day 100, but record 7 belongs to `live`, which is still listed.
    expect(await store.pruneAudit(at(100), at(100))).toEqual({ removed: 6, through: 6 });
    // Once `live` has ended and been archived, the rest may go: all but the head.
    const live = (await store.getIncident('live')) as Incident;
    await store.updateIncident({ ...nextVersion(live, at(9)), state: 'resolved' }, rec(9, 'live'));
    const archiving = new SqliteStore(file, { auditKey: KEY, endedRetentionMs: DAY, auditRetentionMs: 10 * DAY });
    expect(await archiving.maintain(at(40))).toMatchObject({ archived: 1, auditRemoved: 3 });
    expect((await archiving.listAudit()).map((r) => r.seq)).toEqual([10]);
    expect(await archiving.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 1, summarized: { through: 9 } });
    await archiving.close();
    await store.close();
  });

  it('is refused without an audit key (an unsigned summary would let anyone cut the trail), and removes nothing', async () => {
    const file = tmpDb();
    const store = await trail(file, null);
    await expect(store.pruneAudit(at(4), at(30))).rejects.toThrow(StoreRejectedError);
    await expect(store.pruneAudit(at(4), at(30))).rejects.toThrow(/set CLOUDOPS_AUDIT_KEY \(nothing was removed\)/);
    expect(await store.listAudit()).toHaveLength(9);
    await store.close();
  });

  it('the store still refuses to delete a record the summary does not cover', async () => {
    const file = await pruned();
    const db = new Database(file);
    expect(() => db.prepare('DELETE FROM audit WHERE seq = 5').run()).toThrow(/append-only/);
    db.close();
  });
});

describe('a tampered summary or trail is refused', () => {
  it('an altered summary (a later seq, so more looks removed) does not verify', async () => {
    const file = await pruned();
    raw(file, "UPDATE audit_summary SET doc = json_set(doc, '$.seq', 5), seq = 5");
    raw(file, 'DELETE FROM audit WHERE seq = 5');
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/summary of removed records 1–5 does not verify/) as unknown });
  });

  it('an unsigned summary is refused, even with no key configured', async () => {
    const file = await pruned();
    raw(file, "UPDATE audit_summary SET doc = json_set(doc, '$.mac', json('null'), '$.keyId', json('null'))");
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/is unsigned: records may only be removed under a signed summary/) as unknown });
    expect(await verify(file, null)).toMatchObject({ ok: false, problem: expect.stringMatching(/is unsigned/) as unknown });
  });

  it('a summary signed with another key, or a head checkpoint passed off as a summary, is refused', async () => {
    const file = await pruned();
    const head = { seq: 4, hash: prevHashOf(file, 5), at: at(30) };
    raw(file, 'UPDATE audit_summary SET doc = ?', JSON.stringify(signSummary(OTHER, { chain: SQLITE_CHAIN, ...head })));
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/signed with another key/) as unknown });
    raw(file, 'UPDATE audit_summary SET doc = ?', JSON.stringify({ chain: SQLITE_CHAIN, ...signCheckpoint(KEY, head) }));
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/does not verify \(it was forged or altered\)/) as unknown });
  });

  it('deleting the summary leaves a trail that starts in the middle: refused', async () => {
    const file = await pruned();
    raw(file, 'DELETE FROM audit_summary');
    expect(await verify(file)).toMatchObject({ ok: false, firstBadSeq: 5, problem: expect.stringMatching(/expected record 1, found 5 .*no signed summary covers the records before it/) as unknown });
  });

  it('removing records past the summary (the first kept one) is caught; so is altering it', async () => {
    const cut = await pruned();
    raw(cut, 'DELETE FROM audit WHERE seq = 5');
    expect(await verify(cut)).toMatchObject({ ok: false, firstBadSeq: 6, problem: expect.stringMatching(/expected record 5, found 6/) as unknown });
    const altered = await pruned();
    raw(altered, `UPDATE audit SET data = '{"d":99}' WHERE seq = 5`);
    expect(await verify(altered)).toMatchObject({ ok: false, firstBadSeq: 5, problem: expect.stringMatching(/altered/) as unknown });
  });

  it('an older signed summary put back after a later pruning is caught (the trail no longer starts where it says)', async () => {
    const file = await pruned();
    const older = summaryDoc(file);
    const store = new SqliteStore(file, { auditKey: KEY });
    expect(await store.pruneAudit(at(6), at(31))).toEqual({ removed: 2, through: 6 });
    await store.close();
    raw(file, 'UPDATE audit_summary SET doc = ?, seq = 4', older);
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/expected record 5, found 7/) as unknown });
  });

  it('cloudops audit verify accepts a pruned trail, saying so, and exits 1 on an altered summary', async () => {
    const file = await pruned();
    const env = { ...process.env, CLOUDOPS_AUDIT_KEY: KEY.toString('utf8') };
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--db', file], { encoding: 'utf8', env });
    expect(ok.stdout).toMatch(/audit chain intact: 5 records, head anchored by a signed checkpoint; records 1–4 removed past retention under a signed summary/);
    expect(ok.status).toBe(0);
    raw(file, "UPDATE audit_summary SET doc = json_set(doc, '$.at', 1)");
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--db', file], { encoding: 'utf8', env });
    expect(bad.stderr).toMatch(/audit chain BROKEN at record 4: the summary of removed records 1–4 does not verify/);
    expect(bad.status).toBe(1);
  }, 120_000);
});

/** What record `seq` names as its predecessor's hash. */
function prevHashOf(file: string, seq: number): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT prev_hash FROM audit WHERE seq = ?').get(seq) as { prev_hash: string }).prev_hash;
  } finally {
    db.close();
  }
}

/** The stored summary's JSON text. */
function summaryDoc(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT doc FROM audit_summary WHERE id = 1').get() as { doc: string }).doc;
  } finally {
    db.close();
  }
}
