import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { auditKeyFrom, checkpointProblem, signCheckpoint } from '../../src/store/audit-chain.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { AuditInput } from '../../src/store/store.js';

const KEY = Buffer.from('audit-key-for-tests-0123456789abcdef');
const OTHER = Buffer.from('another-audit-key-0123456789abcdef!!');
const T = 1_800_000_000_000 as EpochMs;
const entry = (kind: string, n = 0): AuditInput => ({ at: (T + n) as EpochMs, incidentId: 'i', kind, actor: 'test', data: { n } });
const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), 'cloudops-cp-')), 'audit.db');

async function storeWith(n: number, key: Buffer | null = KEY): Promise<string> {
  const file = tmpDb();
  const store = new SqliteStore(file, { auditKey: key });
  for (let i = 0; i < n; i++) await store.appendAudit(entry(`k${i}`, i));
  await store.close();
  return file;
}

function raw(file: string, sql: string): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS audit_no_delete; DROP TRIGGER IF EXISTS audit_no_update;');
  db.exec(sql);
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

describe('audit checkpoints (pure)', () => {
  it('sign and check: another key, an altered head, a missing key and an unsigned checkpoint under a key are each named', () => {
    const cp = signCheckpoint(KEY, { seq: 4, hash: 'sha256:abc', at: T });
    expect(checkpointProblem(KEY, cp)).toBeNull();
    expect(checkpointProblem(KEY, { ...cp, seq: 3 })?.problem).toMatch(/signature does not verify/);
    expect(checkpointProblem(KEY, { ...cp, hash: 'sha256:abd' })?.problem).toMatch(/signature does not verify/);
    expect(checkpointProblem(OTHER, cp)?.problem).toMatch(/signed with another key/);
    expect(checkpointProblem(null, cp)).toMatchObject({ missingKey: true, problem: expect.stringMatching(/set CLOUDOPS_AUDIT_KEY/) as unknown });
    expect(checkpointProblem(KEY, signCheckpoint(null, { seq: 4, hash: 'sha256:abc', at: T }))?.problem).toMatch(/unsigned although a key is configured/);
    expect(() => auditKeyFrom('short')).toThrow(/at least 32 bytes/);
    expect(auditKeyFrom(undefined)).toBeNull();
  });
});

describe('SqliteStore anchors its audit head', () => {
  it('an untouched store verifies, anchored by a signed checkpoint written with every record', async () => {
    const file = await storeWith(5);
    expect(await verify(file)).toEqual({ ok: true, records: 5, anchor: 'signed' });
    const store = new SqliteStore(file, { auditKey: KEY });
    expect(await store.auditCheckpoint()).toMatchObject({ seq: 5 });
    await store.close();
  });

  it('deleting the last record is truncation', async () => {
    const file = await storeWith(5);
    raw(file, 'DELETE FROM audit WHERE seq = 5');
    expect(await verify(file)).toMatchObject({ ok: false, records: 4, firstBadSeq: 5, problem: expect.stringMatching(/^truncated: the trail ends at record 4 but the checkpoint .* covers 5/) as unknown });
  });

  it('deleting everything from a record on is truncation', async () => {
    const file = await storeWith(6);
    raw(file, 'DELETE FROM audit WHERE seq >= 3');
    expect(await verify(file)).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/records 3–6 were removed/) as unknown });
  });

  it('cutting the end and writing a new checkpoint without the key is caught; so is deleting the checkpoint, or a record appended around the store', async () => {
    const forged = await storeWith(5);
    const store = new SqliteStore(forged, { auditKey: KEY });
    const head = (await store.listAudit()).find((r) => r.seq === 3);
    await store.close();
    raw(forged, `DELETE FROM audit WHERE seq > 3; UPDATE audit_checkpoint SET doc = '${JSON.stringify(signCheckpoint(OTHER, { seq: 3, hash: head?.hash ?? '', at: T }))}'`);
    expect(await verify(forged)).toMatchObject({ ok: false, problem: expect.stringMatching(/signed with another key/) as unknown });
    raw(forged, `UPDATE audit_checkpoint SET doc = '${JSON.stringify(signCheckpoint(null, { seq: 3, hash: head?.hash ?? '', at: T }))}'`);
    expect(await verify(forged)).toMatchObject({ ok: false, problem: expect.stringMatching(/unsigned although a key is configured/) as unknown });
    raw(forged, `UPDATE audit_checkpoint SET doc = 'not json'`);
    expect((await verify(forged)).ok).toBe(false);

    const gone = await storeWith(3);
    raw(gone, 'DELETE FROM audit_checkpoint');
    expect(await verify(gone)).toMatchObject({ ok: false, problem: expect.stringMatching(/no checkpoint anchors the chain head/) as unknown });
  });

  it('an empty trail where incidents exist is reported; an empty store with no incidents verifies as empty', async () => {
    const file = tmpDb();
    const store = new SqliteStore(file, { auditKey: KEY });
    await store.close();
    expect(await verify(file)).toEqual({ ok: true, records: 0, anchor: 'empty' });
    raw(file, `INSERT INTO incidents (id, service, state, version, opened_at, updated_at, doc) VALUES ('i', 'checkout', 'resolved', 1, 0, 0, '{}')`);
    expect(await verify(file)).toMatchObject({ ok: false, problem: expect.stringMatching(/audit trail is empty but 1 incident\(s\) exist/) as unknown });
  });

  it('without a key, checkpoints are unsigned but still catch a cut-off end', async () => {
    const file = await storeWith(4, null);
    expect(await verify(file, null)).toEqual({ ok: true, records: 4, anchor: 'unsigned' });
    raw(file, 'DELETE FROM audit WHERE seq = 4');
    expect(await verify(file, null)).toMatchObject({ ok: false, problem: expect.stringMatching(/^truncated/) as unknown });
  });
});
