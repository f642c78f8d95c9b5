import { afterEach, describe, expect, it } from 'vitest';
import { createAgentPlanner } from '../../src/agent/agent-planner.js';
import { BedrockModel } from '../../src/agent/model.js';
import type { Incident } from '../../src/incident/incident.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { BedrockStub, bedrockError, toolUse, turn } from '../helpers/bedrock-stub.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

let stub: BedrockStub | null = null;
afterEach(async () => {
  await stub?.stop();
  stub = null;
});

/** The demo daemon's pipeline with the agent as its planner (the template planner as its fallback). */
async function agentWatcher(h: Harness, s = agentSettings()): Promise<Watcher> {
  stub = await new BedrockStub().start();
  const agent = createAgentPlanner({
    settings: s,
    policy: h.policy,
    model: new BedrockModel(stub.client()),
    store: h.store,
    clock: h.clock,
    metrics: h.sim,
    logs: h.sim.logSource,
    deployments: h.sim,
    templates: loadCatalog(h.policy.runbookDir, h.policy.doc.actions),
    sleep: async () => undefined,
  });
  return new Watcher({ ...h.deps, planner: agent });
}

async function untilAwaiting(h: Harness, w: Watcher): Promise<Incident> {
  for (let i = 0; i < 100; i++) {
    const found = (await h.store.listIncidents()).find((x) => x.state === 'awaiting_approval');
    if (found) return found;
    h.clock.advance(h.policy.pollEveryMs);
    await w.runCycle();
  }
  throw new Error('no proposal');
}

describe('the agent as the pipeline planner, end to end on the simulated cloud', () => {
  it('drafts the proposal; nothing runs until a person approves, then the rollback runs once and the service recovers', async () => {
    const h = simHarness();
    const w = await agentWatcher(h);
    stub?.script(DRAFT, turn([toolUse('query_logs', { filter: 'ERROR' })]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const inc = await untilAwaiting(h, w);

    expect(inc.runbook?.draftedBy).toBe(DRAFT);
    expect(inc.runbook?.body).toContain('**Hypothesis**');
    expect(inc.approval?.runbookHash).toBe(inc.runbook?.hash);
    expect(h.sim.executeCalls()).toBe(0);

    const res = await w.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
    expect(res.outcome).toBe('approved');
    await w.drain();
    for (let i = 0; i < 60 && (await h.store.getIncident(inc.id))?.state !== 'resolved'; i++) {
      h.clock.advance(h.policy.pollEveryMs);
      await w.runCycle();
    }
    expect((await h.store.getIncident(inc.id))?.state).toBe('resolved');
    expect(h.sim.executeCalls()).toBe(1);
    w.stop();
  });

  it('a throttled model leaves the incident with the template runbook, labelled as the fallback', async () => {
    const h = simHarness();
    const w = await agentWatcher(h, agentSettings({ retries: 1 }));
    stub?.script(DRAFT, bedrockError(429, 'ThrottlingException'), bedrockError(429, 'ThrottlingException'));
    const inc = await untilAwaiting(h, w);
    expect(inc.runbook?.draftedBy).toBe('template');
    expect(inc.runbook?.templateId).toBe('rollback-suspect-deployment');
    expect(inc.runbook?.body).toMatch(/^> The agent could not draft this runbook \(throttled: /);
    expect(h.sim.executeCalls()).toBe(0);
    w.stop();
  });
});
