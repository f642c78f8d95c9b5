import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ASK_INFLIGHT_KEY, interrupted, type InflightLedger } from '../../src/agent/ask-inflight.js';
import { questionThreads, QUESTION_ASKED, QUESTION_FAILED } from '../../src/agent/ask-threads.js';
import { createAskService } from '../../src/agent/ask.js';
import { BedrockModel, type ModelPort } from '../../src/agent/model.js';
import { epochMs } from '../../src/core/time.js';
import { startDaemon } from '../../src/daemon.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { questionsSection } from '../../src/server/render/questions.js';
import { leaseOwnerId, pidSpace } from '../../src/store/lease-owner.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { DRAFT } from '../agent/agent-fixture.js';
import { withAgent } from '../agent/ask-fixture.js';
import { BedrockStub, toolUse, turn } from '../helpers/bedrock-stub.js';
import { approvalServer, type ApprovalServer } from './approval-server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CRASHED = 'host-a/4242/0123456789ab/dead0001';

/** A model that never answers and ignores its signal: the process answering is gone, as after kill -9. */
const hung: ModelPort = { converse: () => new Promise(() => undefined), applyGuardrail: () => new Promise(() => undefined) } as unknown as ModelPort;

let srv: ApprovalServer | null = null;
afterEach(async () => {
  await srv?.close();
  srv = null;
});

describe('a question in flight when the daemon stops (issue 13 item 3, loose end of issue 11)', () => {
  it('pure: closed when its owner has certainly died or its deadline is long past, never while a live owner may still answer', () => {
    const q = { incidentId: 'i', owner: 'o', deadlineAt: 1_000_000, asker: 'alice', channel: 'api', identity: 'token:alice' };
    expect(interrupted(q, 1_000_000, () => true)).toBe(true);
    expect(interrupted(q, 1_000_000, () => false)).toBe(false);
    expect(interrupted(q, 1_000_000 + 60_000, () => false)).toBe(false);
    expect(interrupted(q, 1_000_000 + 60_001, () => false)).toBe(true);
  });

  it('a restarted daemon records it as failed ("daemon restarted", audited) and the page stops saying "answering"; an answer in flight elsewhere is left alone', async () => {
    // Prepare: daemon A accepts two questions and dies answering them (its model never returns).
    srv = await approvalServer();
    const inc = await srv.awaiting();
    const h = srv.h;
    const policy = withAgent(h.policy, 'http://127.0.0.1:1');
    const common = { store: h.store, clock: h.clock, metrics: h.sim, logs: h.sim.logSource, deployments: h.sim, templates: loadCatalog(policy.runbookDir, policy.doc.actions), logger: pino({ level: 'silent' }), model: hung };
    const a = createAskService(policy, { ...common, owner: CRASHED });
    const live = createAskService(policy, { ...common, owner: 'host-b/7/0123456789ab/alive001' });
    const q1 = await a.ask({ incidentId: inc.id, question: 'Why this deploy?', identity: 'token:alice', asker: 'alice', channel: 'api' });
    const q2 = await live.ask({ incidentId: inc.id, question: 'And payments?', identity: 'token:bob', asker: 'bob', channel: 'web' });
    if (q1.kind !== 'accepted' || q2.kind !== 'accepted') throw new Error('not accepted');
    const before = questionThreads(await h.store.listAudit({ incidentId: inc.id }));
    expect(before.map((t) => t.status)).toEqual(['answering', 'answering']);

    // Act: daemon B starts on the same store; A is certainly dead, the other owner is not.
    const b = createAskService(policy, { ...common, owner: 'host-a/4343/0123456789ab/new00001', ownerDead: (o) => o === CRASHED });
    const failed = await b.recoverInterrupted();

    // Assess: A's question is failed with the reason, once; the live one still answers.
    expect(failed).toEqual([q1.questionId]);
    const audit = await h.store.listAudit({ incidentId: inc.id });
    const rec = audit.filter((x) => x.kind === QUESTION_FAILED);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ actor: 'agent', data: { questionId: q1.questionId, reason: 'daemon restarted', askedBy: 'alice', channel: 'api', identity: 'token:alice' } });
    const threads = questionThreads(audit);
    expect(threads.map((t) => [t.questionId, t.status])).toEqual([[q1.questionId, 'failed'], [q2.questionId, 'answering']]);
    expect(threads[0]?.failure).toMatch(/^daemon restarted: /);
    const html = questionsSection(audit, { availability: { on: true }, csrf: null } as never, inc.id);
    expect(html).toContain('data-status="failed"');
    expect(html).toContain('No answer: daemon restarted');
    expect(Object.keys((await h.store.getValue<InflightLedger>(ASK_INFLIGHT_KEY)) ?? {})).toEqual([q2.questionId]);
    // A second start records nothing twice.
    expect(await b.recoverInterrupted()).toEqual([]);
    expect((await h.store.listAudit({ incidentId: inc.id })).filter((x) => x.kind === QUESTION_FAILED)).toHaveLength(1);
  });

  it('an answered question leaves the in-flight list; one listed but never recorded as asked is dropped without a record', async () => {
    srv = await approvalServer();
    const inc = await srv.awaiting();
    const h = srv.h;
    const stub = await new BedrockStub().start();
    try {
      const policy = withAgent(h.policy, stub.url);
      const svc = createAskService(policy, { store: h.store, clock: h.clock, metrics: h.sim, logs: h.sim.logSource, deployments: h.sim, templates: [], logger: pino({ level: 'silent' }), model: new BedrockModel(stub.client()), sleep: async () => undefined, ownerDead: () => true });
      stub.script(DRAFT, turn([toolUse('answer_question', { answer: 'The checkout deploy came one minute before the onset.', citations: [] })]));
      const q = await svc.ask({ incidentId: inc.id, question: 'Why?', identity: 'token:alice', asker: 'alice', channel: 'api' });
      if (q.kind !== 'accepted') throw new Error('not accepted');
      expect(Object.keys((await h.store.getValue<InflightLedger>(ASK_INFLIGHT_KEY)) ?? {})).toEqual([q.questionId]);
      expect((await q.done).ok).toBe(true);
      expect(await h.store.getValue(ASK_INFLIGHT_KEY)).toEqual({});

      await h.store.setValue(ASK_INFLIGHT_KEY, { ghost: { incidentId: inc.id, owner: CRASHED, deadlineAt: 0, asker: 'x', channel: 'api', identity: 'token:x' } });
      expect(await svc.recoverInterrupted()).toEqual([]);
      expect(await h.store.getValue(ASK_INFLIGHT_KEY)).toEqual({});
      expect((await h.store.listAudit({ incidentId: inc.id })).filter((x) => x.kind === QUESTION_FAILED)).toEqual([]);
    } finally {
      await stub.stop();
    }
  });
});

describe('the daemon closes questions a crashed process left in flight', () => {
  it('on start, a question whose answering process has exited is recorded as failed with reason "daemon restarted"', async () => {
    // Prepare: a data folder whose store holds a question asked of a process that has since exited.
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-ask-restart-'));
    const doc = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, any>;
    doc.cloud.scenario = join(ROOT, 'config', 'scenarios', 'demo.yaml');
    doc.runbooks.dir = join(ROOT, 'runbooks');
    doc.server.port = 0;
    doc.store.path = join(dir, 'cloudops.db');
    writeFileSync(join(dir, 'policy.yaml'), stringify(doc));
    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    const owner = leaseOwnerId(pidSpace(), exited);
    const seed = new SqliteStore(join(dir, 'cloudops.db'));
    await seed.appendAudit({ at: epochMs(Date.now()), incidentId: 'checkout-20261102-0803', kind: QUESTION_ASKED, actor: 'alice', data: { questionId: 'q-crashed', channel: 'web', identity: 'token:alice', question: 'Why?' } });
    await seed.setValue(ASK_INFLIGHT_KEY, { 'q-crashed': { incidentId: 'checkout-20261102-0803', owner, deadlineAt: Date.now() + 60_000, asker: 'alice', channel: 'web', identity: 'token:alice' } });
    await seed.close();

    // Act: the daemon starts on that folder.
    const daemon = await startDaemon({ policyFile: join(dir, 'policy.yaml'), dataDir: dir, logger: pino({ level: 'silent' }) });
    try {
      // Assess: the question is closed in the audit trail by the time the daemon has started.
      const audit = await daemon.store.listAudit({ incidentId: 'checkout-20261102-0803' });
      expect(audit.find((x) => x.kind === QUESTION_FAILED)?.data).toMatchObject({ questionId: 'q-crashed', reason: 'daemon restarted' });
      expect(questionThreads(audit)[0]?.status).toBe('failed');
    } finally {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
