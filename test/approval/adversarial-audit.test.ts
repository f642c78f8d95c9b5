import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_KEY_ENV } from '../../src/store/audit-chain.js';
import { approvalServer } from '../server/approval-server.js';

/**
 * Issue 10, item 3: after a real approval and rollback, someone with write access to the file cuts the
 * end off the audit trail. `cloudops audit verify` must say so (exit 1), and must not call a missing
 * file "intact: 0 records" (exit 2).
 */

const KEY = 'adversarial-audit-key-0123456789abcdef';
const run = promisify(execFile);
let source = '';
let before: string | undefined;

beforeAll(async () => {
  before = process.env[AUDIT_KEY_ENV];
  process.env[AUDIT_KEY_ENV] = KEY;
  const s = await approvalServer();
  const inc = await s.awaiting();
  await s.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
  await s.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'));
  source = join(s.h.dataDir, 'cloudops.db');
  await s.close();
}, 60_000);

afterAll(() => {
  if (before === undefined) delete process.env[AUDIT_KEY_ENV];
  else process.env[AUDIT_KEY_ENV] = before;
});

/** A copy of the resolved incident's store, edited with `sql` (the append-only triggers dropped first). */
function tampered(sql: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cloudops-audit-')), 'cloudops.db');
  copyFileSync(source, file);
  const db = new Database(file);
  db.exec('DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update;');
  db.exec(sql);
  db.close();
  return file;
}

async function verify(file: string, env: Record<string, string | undefined> = { [AUDIT_KEY_ENV]: KEY }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--db', file], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('item 3: a cut-off audit trail is detected', () => {
  it('the untouched store verifies, anchored by a signed checkpoint', async () => {
    const r = await verify(tampered('SELECT 1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit chain intact: \d+ records, head anchored by a signed checkpoint/);
  });

  it('deleting the last record: exit 1, truncated', async () => {
    const r = await verify(tampered('DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/audit chain BROKEN at record \d+: truncated: the trail ends at record \d+ but the checkpoint/);
  });

  it('deleting everything from the approval on: exit 1, truncated, naming the first missing record', async () => {
    const db = new Database(source, { readonly: true });
    const { seq } = db.prepare("SELECT min(seq) AS seq FROM audit WHERE kind = 'decision.recorded'").get() as { seq: number };
    db.close();
    const r = await verify(tampered(`DELETE FROM audit WHERE seq >= ${seq}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`audit chain BROKEN at record ${seq}: truncated`);
  });

  it('deleting the records and the checkpoint: exit 1, an empty trail where incidents exist', async () => {
    const r = await verify(tampered('DELETE FROM audit; DELETE FROM audit_checkpoint'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the audit trail is empty but 1 incident\(s\) exist/);
  });

  it('a file that does not exist: exit 2, not "intact: 0 records"; a signed store verified without the key: exit 2', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'cloudops-audit-')), 'nope.db');
    const r = await verify(missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no audit store at .*nope\.db/);
    expect(r.stdout).not.toMatch(/intact/);
    const noKey = await verify(tampered('SELECT 1'), { [AUDIT_KEY_ENV]: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/NOT VERIFIED .*set CLOUDOPS_AUDIT_KEY/);
  });
});
