import { afterEach, describe, expect, it } from 'vitest';
import { createAgentPlanner } from '../../src/agent/agent-planner.js';
import { BedrockModel } from '../../src/agent/model.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { BedrockStub, bedrockError, toolUse, turn } from '../helpers/bedrock-stub.js';
import { simHarness } from '../helpers/sim-harness.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

let stub: BedrockStub | null = null;
afterEach(async () => {
  await stub?.stop();
  stub = null;
});

async function run(script: Parameters<BedrockStub['script']>[1][]) {
  const h = simHarness();
  stub = await new BedrockStub().start();
  const agent = createAgentPlanner({
    settings: agentSettings({ retries: 1 }),
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
  stub.script(DRAFT, ...script);
  const w = new Watcher({ ...h.deps, planner: agent });
  for (let i = 0; i < 100 && !(await h.store.listIncidents()).some((x) => x.state === 'awaiting_approval'); i++) {
    h.clock.advance(h.policy.pollEveryMs);
    await w.runCycle();
  }
  const inc = (await h.store.listIncidents()).find((x) => x.state === 'awaiting_approval');
  if (!inc) throw new Error('no proposal');
  w.stop();
  return { h, inc };
}

describe('fallback notice (issue 11 item 3)', () => {
  it('when the agent fails and the template planner drafts, the proposal says so and its channels are told why', async () => {
    const { h, inc } = await run([bedrockError(429, 'ThrottlingException'), bedrockError(429, 'ThrottlingException')]);

    expect(inc.runbook?.draftedBy).toBe('template');
    expect(inc.plan?.fallbackReason).toMatch(/^throttled: /);
    expect(inc.reason).toMatch(/drafted by the template planner because the agent failed: throttled: /);
    const sent = h.notifier.sent.filter((a) => a.incidentId === inc.id);
    expect(sent.find((a) => a.kind === 'proposal')?.title).toContain('(template fallback)');
    const notice = sent.find((a) => a.title.includes('the agent failed'));
    expect(notice?.kind).toBe('reminder');
    expect(notice?.title).toMatch(/the agent failed \(throttled: .*\); this is the template planner's proposal/);
    const audit = (await h.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'awaiting_approval');
    expect(audit?.data['fallback']).toMatch(/^drafted by the template planner because the agent failed/);
  });

  it('a proposal the agent drafted carries no fallback label and no notice', async () => {
    const { h, inc } = await run([turn([toolUse('propose_runbook', rollbackProposal())])]);
    expect(inc.runbook?.draftedBy).toBe(DRAFT);
    expect(inc.reason).not.toContain('because the agent failed');
    expect(h.notifier.sent.some((a) => a.title.includes('the agent failed'))).toBe(false);
  });
});
