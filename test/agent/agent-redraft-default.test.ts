import { afterEach, describe, expect, it } from 'vitest';
import { createAgentPlanner } from '../../src/agent/agent-planner.js';
import { BedrockModel } from '../../src/agent/model.js';
import type { Incident } from '../../src/incident/incident.js';
import { pipelineSettings } from '../../src/pipeline/settings.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { BedrockStub, toolUse, turn } from '../helpers/bedrock-stub.js';
import { simHarness } from '../helpers/sim-harness.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';
import { withAgent } from './ask-fixture.js';

const withPipeline = (p: CompiledPolicy, pipeline: Record<string, unknown>): CompiledPolicy => ({ ...p, doc: { ...p.doc, pipeline: { ...p.doc.pipeline, ...pipeline } } });

let stub: BedrockStub | null = null;
afterEach(async () => {
  await stub?.stop();
  stub = null;
});

describe('pipeline.maxRedrafts default: 2 with the agent drafting, 0 with templates only', () => {
  it('the default follows the planner; an explicit value wins either way', () => {
    const h = simHarness();
    const demo = h.policy;
    const agent = withAgent(demo, 'http://127.0.0.1:1');
    const agentOff = { ...agent, doc: { ...agent.doc, agent: agent.doc.agent ? { ...agent.doc.agent, enabled: false } : undefined } } as CompiledPolicy;
    expect(pipelineSettings(demo).maxRedrafts).toBe(0);
    expect(pipelineSettings(agent).maxRedrafts).toBe(2);
    expect(pipelineSettings(agentOff).maxRedrafts).toBe(0);
    expect(pipelineSettings(withPipeline(agent, { maxRedrafts: 0 })).maxRedrafts).toBe(0);
    expect(pipelineSettings(withPipeline(demo, { maxRedrafts: 3 })).maxRedrafts).toBe(3);
  });

  it('with the agent policy and no maxRedrafts, a reject with a reason triggers a re-draft (not the end of the request)', async () => {
    const h = simHarness();
    stub = await new BedrockStub().start();
    const policy = withAgent(h.policy, stub.url);
    const planner = createAgentPlanner({ settings: agentSettings(), policy: h.policy, model: new BedrockModel(stub.client()), store: h.store, clock: h.clock, metrics: h.sim, logs: h.sim.logSource, deployments: h.sim, templates: loadCatalog(h.policy.runbookDir, h.policy.doc.actions), sleep: async () => undefined });
    const w = new Watcher({ ...h.deps, settings: pipelineSettings(policy), planner });
    stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]), turn([toolUse('propose_runbook', rollbackProposal({ title: 'Roll back, version 2' }))]));
    let inc: Incident | undefined;
    for (let i = 0; i < 100 && !inc; i++) {
      h.clock.advance(h.policy.pollEveryMs);
      await w.runCycle();
      inc = (await h.store.listIncidents()).find((x) => x.state === 'awaiting_approval');
    }
    if (!inc) throw new Error('no proposal');
    const res = await w.decide({ incidentId: inc.id, approver: 'bob', verdict: 'reject', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:bob', reason: 'not during the sale' });
    expect(res.outcome).toBe('redrafting');
    w.stop();
    await h.store.close();
  });
});
