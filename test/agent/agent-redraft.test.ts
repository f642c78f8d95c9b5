import { afterEach, describe, expect, it } from 'vitest';
import { StaleRunbookError } from '../../src/approval/errors.js';
import { evaluateQuorum } from '../../src/approval/quorum.js';
import { approvalRules } from '../../src/policy/compile.js';
import { toolUse, turn, type ConverseCall } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { DRAFT, restartProposal, rollbackProposal } from './agent-fixture.js';

afterEach(closeAgentWatchers);

/** The demo pipeline with the agent as planner and `maxRedrafts` re-drafts per incident. */
const redraftingWatcher = (maxRedrafts: number) => agentWatcher({ pipeline: (s) => ({ ...s, maxRedrafts }) });

/** Version 2 as the agent drafts it after the reject: replace the tasks instead of rolling back. */
const restart = restartProposal('Replace every checkout task; the release stays (it carries a schema migration).', [{ kind: 'metric', metricId: 'checkout5xx', observation: '5xx rose at the onset' }]);

const userText = (call: ConverseCall): string => JSON.stringify(call.body.messages ?? []);

describe('re-drafting with the agent (issue 11 item 6)', () => {
  it('a reject with a reason supersedes version 1; the agent drafts version 2 knowing why; approvers are told the diff; version 1 decisions no longer count', async () => {
    // Prepare: version 1 proposed by the agent.
    const { h, stub, watcher: w, until } = await redraftingWatcher(2);
    let briefed = '';
    stub.script(
      DRAFT,
      turn([toolUse('propose_runbook', rollbackProposal())]),
      (call) => {
        briefed = userText(call);
        return turn([toolUse('propose_runbook', restart)]);
      },
    );
    const v1 = await until((i) => i.state === 'awaiting_approval');
    const hash1 = v1.runbook?.hash ?? '';

    // Act: bob rejects with a reason; the watcher drafts again.
    const res = await w.decide({ incidentId: v1.id, approver: 'bob', verdict: 'reject', runbookHash: hash1, channel: 'cli', identity: 'token:bob', reason: 'the release carries a schema migration; do not roll back' });
    expect(res.outcome).toBe('redrafting');
    expect((await h.store.getIncident(v1.id))?.state).toBe('drafting');
    const v2 = await until((i) => i.id === v1.id && i.state === 'awaiting_approval');

    // Assess: a new version with its own hash, the old request kept as superseded.
    expect(briefed).toContain('schema migration');
    expect(briefed).toContain('redraftOf');
    expect(v2.runbook?.revision).toBe(2);
    expect(v2.runbook?.hash).not.toBe(hash1);
    expect(v2.approval?.runbookHash).toBe(v2.runbook?.hash);
    expect(v2.runbook?.steps.map((s) => s.action)).toEqual(['ecs.forceNewDeployment']);
    expect(v2.requests).toMatchObject([{ version: 1, runbookHash: hash1, outcome: 'superseded', why: expect.stringContaining('bob rejected it') }]);
    expect(v2.redraft).toBeNull();
    // Approvers were told what changed, on the proposal's channel.
    const diff = h.notifier.sent.find((a) => a.incidentId === v1.id && a.title.includes('version 2 replaces 1'));
    expect(diff?.kind).toBe('reminder');
    expect(diff?.text).toContain('- step 1: codepipeline.rollback');
    expect(diff?.text).toContain('+ step 1: ecs.forceNewDeployment');
    expect(diff?.text).toContain('Decisions on version 1 no longer count');
    // Bob's reject on version 1 does not count against version 2; a decision naming version 1 is refused.
    const decisions = await h.store.listDecisions(v1.id);
    const q = evaluateQuorum(v2.approval!, decisions, approvalRules(h.policy, v2.runbook!.risk, false));
    expect(q.rejectedBy).toBeNull();
    expect(q.ignored.map((i) => i.why)).toEqual(['names another runbook version']);
    await expect(w.decide({ incidentId: v1.id, approver: 'alice', verdict: 'approve', runbookHash: hash1, channel: 'cli', identity: 'token:alice' })).rejects.toBeInstanceOf(StaleRunbookError);
    // Bob may decide again on the new version.
    const ok = await w.decide({ incidentId: v1.id, approver: 'bob', verdict: 'approve', runbookHash: v2.runbook?.hash ?? '', channel: 'cli', identity: 'token:bob' });
    expect(ok.outcome).toBe('approved');
    await w.drain();
    // What runs is version 2's step, once.
    const ran = await until((i) => i.id === v1.id && i.steps.length > 0);
    expect(ran.steps.map((s) => s.action)).toEqual(['ecs.forceNewDeployment']);
    expect(h.sim.executeCalls()).toBe(1);
    const audit = await h.store.listAudit({ incidentId: v1.id });
    expect(audit.some((a) => a.kind === 'incident.transition' && a.data['to'] === 'drafting' && (a.data['redraft'] as { superseded?: string } | undefined)?.superseded === hash1)).toBe(true);
  });

  it('re-drafts are bounded: with none left, a reject with a reason ends the request as rejected', async () => {
    const { h, stub, watcher: w, until } = await redraftingWatcher(1);
    stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]), turn([toolUse('propose_runbook', restart)]));
    const v1 = await until((i) => i.state === 'awaiting_approval');
    await w.decide({ incidentId: v1.id, approver: 'bob', verdict: 'reject', runbookHash: v1.runbook?.hash ?? '', channel: 'cli', identity: 'token:bob', reason: 'not a rollback' });
    const v2 = await until((i) => i.id === v1.id && i.state === 'awaiting_approval');

    const res = await w.decide({ incidentId: v1.id, approver: 'alice', verdict: 'reject', runbookHash: v2.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice', reason: 'not this either' });

    expect(res.outcome).toBe('rejected');
    const end = await h.store.getIncident(v1.id);
    expect(end?.state).toBe('rejected');
    expect(end?.requests?.map((r) => r.outcome)).toEqual(['superseded']);
    expect(stub.calls.filter((c) => c.modelId === DRAFT)).toHaveLength(2);
    expect(h.sim.executeCalls()).toBe(0);
  });
});
