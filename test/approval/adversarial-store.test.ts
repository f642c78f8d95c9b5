import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision, Incident } from '../../src/incident/incident.js';
import { approvalServer, type ApprovalServer } from '../server/approval-server.js';

/**
 * Issue 10, item 4: someone with write access to the database file edits it while a request waits.
 * The daemon keeps running on the same file; nothing may execute.
 */

let s: ApprovalServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

function tamper(srv: ApprovalServer, fn: (db: Database.Database) => void): void {
  const db = new Database(join(srv.h.dataDir, 'cloudops.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

async function runPastTtl(srv: ApprovalServer, inc: Incident): Promise<Incident> {
  await srv.watcher.drain();
  const incs = await srv.runUntil((all) => all.some((i) => i.id === inc.id && !['awaiting_approval', 'approved', 'executing', 'verifying'].includes(i.state)), 200);
  const end = incs.find((i) => i.id === inc.id);
  if (!end) throw new Error('incident vanished');
  return end;
}

describe('item 4: the quorum is the policy\'s, and only audited approvals count', () => {
  it('requiredApprovals set to 0 in the incident row approves nothing: the request expires, nothing executes', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    tamper(s, (db) => {
      const row = db.prepare('SELECT doc FROM incidents WHERE id = ?').get(inc.id) as { doc: string };
      const doc = JSON.parse(row.doc) as Incident;
      db.prepare('UPDATE incidents SET doc = ? WHERE id = ?').run(JSON.stringify({ ...doc, approval: { ...doc.approval, requiredApprovals: 0 } }), inc.id);
    });
    expect((await s.h.store.getIncident(inc.id))?.approval?.requiredApprovals).toBe(0);
    const end = await runPastTtl(s, inc);
    expect(end.state).toBe('expired');
    expect(end.steps).toEqual([]);
    expect(s.h.sim.executeCalls()).toBe(0);
  });

  it('an approval inserted straight into the decisions table (no audit record) is not counted by authorize(): nothing executes', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const forged: Decision = { incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', at: s.h.clock.now(), channel: 'web', identity: 'token:alice' };
    tamper(s, (db) => {
      db.prepare('INSERT INTO decisions (incident_id, approver, runbook_hash, verdict, at, doc) VALUES (?, ?, ?, ?, ?, ?)').run(forged.incidentId, forged.approver, forged.runbookHash, forged.verdict, forged.at, JSON.stringify(forged));
    });
    const end = await runPastTtl(s, inc);
    expect(end.state).toBe('needs_human');
    expect(end.reason).toMatch(/not executed: 0 of 1 approvals \(not counted: alice: no audit record of alice's approve\)/);
    expect(s.h.sim.executeCalls()).toBe(0);
    const denied = (await s.h.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'authorize.denied');
    expect(denied).toMatchObject([{ data: { reason: 'quorum_not_met' } }]);
  });

  it('the same approval made through the code (decision and audit record together) executes exactly once', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    await s.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
    const end = await runPastTtl(s, inc);
    expect(end.state).toBe('resolved');
    expect(s.h.sim.executeCalls()).toBe(1);
  });
});
