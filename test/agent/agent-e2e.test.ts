import { afterEach, describe, expect, it } from 'vitest';
import type { PlanTrace } from '../../src/runbook/planner.js';
import { decisionRecord } from '../../src/server/render/decision-record.js';
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
    // The audit record keeps the investigation (item 7): session, model ids, prompt hashes, tokens, tool calls with arguments and sizes, the final answer.
    const proposed = (await h.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'awaiting_approval');
    const plan = proposed?.data['plan'] as PlanTrace;
    expect(plan.promptHashes.every((x) => /^sha256:[0-9a-f]{64}$/.test(x))).toBe(true);
    expect(plan.investigation).toMatchObject({ sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/), models: { draft: DRAFT }, steps: 2 });
    expect(plan.investigation?.calls.map((c) => [c.step, c.model, c.input, c.output])).toEqual([[1, DRAFT, 1000, 100], [2, DRAFT, 1000, 100]]);
    expect(plan.investigation?.toolCalls).toEqual([{ step: 1, name: 'query_logs', args: '{"filter":"ERROR"}', status: 'success', resultChars: expect.any(Number), capped: false, flagged: 0 }]);
    expect(plan.investigation?.toolCalls[0]?.resultChars).toBeGreaterThan(200);
    expect(plan.investigation?.finalAnswer).toMatchObject({ decision: 'runbook', hypothesis: rollbackProposal()['hypothesis'] });
    // `show ID --record` prints it.
    const record = decisionRecord({ incident: inc, decisions: [], audit: await h.store.listAudit({ incidentId: inc.id }), verification: await h.store.verifyAudit() }).join('\n');
    expect(record).toContain(`investigation ${plan.investigation?.sessionId}: draft model ${DRAFT}; 2 steps, 0 repairs`);
    expect(record).toMatch(/tool 1 query_logs\(\{"filter":"ERROR"\}\) → success, \d+ characters/);
    expect(record).toContain('final answer: {"decision":"runbook"');

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
