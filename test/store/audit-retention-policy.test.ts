import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/compose.js';
import type { EpochMs } from '../../src/core/time.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { AUDIT_KEY_ENV } from '../../src/store/audit-chain.js';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import { demoPolicyFile } from '../helpers/daemon-files.js';

const T = 1_800_000_000_000;
const DAY = 86_400_000;
const at = (d: number): EpochMs => (T + d * DAY) as EpochMs;

/** The store the daemon would open for the demo policy with `store` replaced (validated by the policy schema). */
function storeFor(store: Record<string, unknown>): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-audit-ret-'));
  const file = demoPolicyFile(dir, (doc) => (doc['store'] = { kind: 'sqlite', path: join(dir, 'a.db'), ...store }));
  const policy = compilePolicy(loadPolicyFile(file).policy, file);
  return openStore(policy, join(dir, 'a.db')) as SqliteStore;
}

/** Ten days of records of no incident, then an incident opened on day 10 (its record is kept). */
async function tenDays(store: SqliteStore): Promise<void> {
  for (let d = 0; d < 10; d++) await store.appendAudit({ at: at(d), incidentId: null, kind: 'note', actor: 'test', data: { d } });
  await store.createIncident(newIncident('live', 'checkout', [], at(10)), { at: at(10), incidentId: 'live', kind: 'incident.opened', actor: 'test', data: {} });
}

describe('store.auditRetention (policy): old audit records go under a signed summary, the trail still verifies', () => {
  const before = process.env[AUDIT_KEY_ENV];
  afterEach(() => {
    if (before === undefined) delete process.env[AUDIT_KEY_ENV];
    else process.env[AUDIT_KEY_ENV] = before;
  });

  it('with auditRetention 5d, maintenance removes the records older than 5 days and the chain verifies from the summary on', async () => {
    process.env[AUDIT_KEY_ENV] = 'audit-key-for-tests-0123456789abcdef';
    const store = storeFor({ retention: '1d', auditRetention: '5d' });
    await tenDays(store);
    const report = await store.maintain(at(11));
    // Records of days 0–5 are older than day 11 − 5 days.
    expect(report.auditRemoved).toBe(6);
    const v = await store.verifyAnchoredAudit();
    expect(v.ok).toBe(true);
    // The chain goes on growing after the summary and still verifies.
    await store.appendAudit({ at: at(12), incidentId: null, kind: 'note', actor: 'test', data: {} });
    expect((await store.verifyAnchoredAudit()).ok).toBe(true);
    expect((await store.listAudit({})).map((a) => a.at)).not.toContain(at(0));
    await store.close();
  });

  it('without auditRetention nothing is removed', async () => {
    process.env[AUDIT_KEY_ENV] = 'audit-key-for-tests-0123456789abcdef';
    const store = storeFor({ retention: '1d' });
    await tenDays(store);
    expect((await store.maintain(at(400))).auditRemoved).toBe(0);
    expect((await store.verifyAnchoredAudit()).ok).toBe(true);
    await store.close();
  });

  it('the policy refuses an audit retention below a day', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-audit-ret-'));
    const file = demoPolicyFile(dir, (doc) => (doc['store'] = { kind: 'sqlite', auditRetention: '1h' }));
    expect(() => loadPolicyFile(file)).toThrow(/auditRetention/);
  });
});
