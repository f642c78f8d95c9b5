import { afterEach, describe, expect, it } from 'vitest';
import { bedrockError, toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

afterEach(closeAgentWatchers);

describe('the agent as the pipeline planner, end to end on the simulated cloud', () => {
  it('drafts the proposal; nothing runs until a person approves, then the rollback runs once and the service recovers', async () => {
    const { h, stub, watcher: w, until, untilAwaiting } = await agentWatcher();
    stub.script(DRAFT, turn([toolUse('query_logs', { filter: 'ERROR' })]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const inc = await untilAwaiting();

    expect(inc.runbook?.draftedBy).toBe(DRAFT);
    expect(inc.runbook?.body).toContain('**Hypothesis**');
    expect(inc.approval?.runbookHash).toBe(inc.runbook?.hash);
    expect(h.sim.executeCalls()).toBe(0);

    const res = await w.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
    expect(res.outcome).toBe('approved');
    await w.drain();
    expect((await until((i) => i.id === inc.id && i.state === 'resolved')).state).toBe('resolved');
    expect(h.sim.executeCalls()).toBe(1);
  });

  it('a throttled model leaves the incident with the template runbook, labelled as the fallback', async () => {
    const { h, stub, untilAwaiting } = await agentWatcher({ settings: agentSettings({ retries: 1 }) });
    stub.script(DRAFT, bedrockError(429, 'ThrottlingException'), bedrockError(429, 'ThrottlingException'));
    const inc = await untilAwaiting();
    expect(inc.runbook?.draftedBy).toBe('template');
    expect(inc.runbook?.templateId).toBe('rollback-suspect-deployment');
    expect(inc.runbook?.body).toMatch(/^> The agent could not draft this runbook \(throttled: /);
    expect(h.sim.executeCalls()).toBe(0);
  });
});
