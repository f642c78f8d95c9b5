import { afterEach, describe, expect, it } from 'vitest';
import { toolUse, turn, type ConverseCall } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { demoVariant } from '../helpers/demo-variant.js';
import { DRAFT, restartProposal, rollbackProposal } from './agent-fixture.js';

afterEach(closeAgentWatchers);

const LATE = 'd4e5f6a7-dddd-4e3f-8a4b-5c6d7e8f0004';

/** The demo world plus a release of payments (a dependency of checkout) 15 minutes in: after the request opened. */
const lateDependencyRelease = (): string =>
  demoVariant({
    scenario: (doc) =>
      void doc.deployments.push({ id: LATE, pipeline: 'payments-deploy', service: 'payments', at: '15m', revision: { id: '5b6c7d8', summary: 'Raise the payments connection pool' }, triggeredBy: 'frank@example.com' }),
  });

/** Version 2 as the agent drafts it once it has seen the payments release: replace the checkout tasks instead. */
const restart = restartProposal('Replace every checkout task so they reconnect to the new payments pool.', [{ kind: 'deployment', deploymentId: LATE, observation: 'payments released while the request was open' }]);

describe('re-drafting with the agent on new evidence (issue 11 item 6)', () => {
  it('a dependency deploying while version 1 awaits approval supersedes it; the agent is briefed on why and drafts version 2, which cites the new deployment; approvers are told the diff; nothing runs', async () => {
    // Prepare: version 1 proposed by the agent from the demo incident.
    const { h, stub, until } = await agentWatcher({ policyFile: lateDependencyRelease(), pipeline: (s) => ({ ...s, maxRedrafts: 1 }) });
    let briefing = '';
    stub.script(
      DRAFT,
      turn([toolUse('propose_runbook', rollbackProposal())]),
      turn([toolUse('list_deployments', { minutesAfter: 30 })]),
      (call: ConverseCall) => {
        briefing = JSON.stringify(call.body.messages[0]);
        return turn([toolUse('propose_runbook', restart)]);
      },
    );
    const v1 = await until((i) => i.state === 'awaiting_approval');
    expect(v1.runbook?.draftedBy).toBe(DRAFT);
    expect(stub.calls).toHaveLength(1);

    // Act: the watcher keeps polling; payments deploys at 08:15.
    const v2 = await until((i) => i.id === v1.id && i.state === 'awaiting_approval' && (i.runbook?.revision ?? 1) === 2);

    // Assess: the agent drafted again, told why, and saw the new deployment through its tool.
    expect(stub.calls).toHaveLength(3);
    expect(briefing).toContain('redraftOf');
    expect(briefing).toContain(LATE);
    expect(JSON.stringify(stub.calls[2]?.body.messages.at(-1))).toContain(LATE);
    expect(v2.runbook?.draftedBy).toBe(DRAFT);
    expect(v2.runbook?.steps.map((s) => s.action)).toEqual(['ecs.forceNewDeployment']);
    expect(v2.runbook?.body).toMatch(new RegExp(`\\[deployment ${LATE}\\]\\(https://`));
    expect(v2.requests).toMatchObject([{ version: 1, runbookHash: v1.runbook?.hash, outcome: 'superseded', why: expect.stringContaining(LATE) }]);
    expect(v2.approval?.runbookHash).toBe(v2.runbook?.hash);
    const told = h.notifier.sent.filter((a) => a.incidentId === v1.id);
    const diff = told.find((a) => a.title.includes('version 2 replaces 1'));
    expect(diff?.text).toContain('- step 1: codepipeline.rollback');
    expect(diff?.text).toContain('+ step 1: ecs.forceNewDeployment');
    expect(h.sim.executeCalls()).toBe(0);
  });
});
