import { afterEach, describe, expect, it } from 'vitest';
import { pipelineSettings } from '../../src/pipeline/settings.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { simHarness } from '../helpers/sim-harness.js';
import { DRAFT, rollbackProposal } from './agent-fixture.js';
import { withAgent } from './ask-fixture.js';

const withPipeline = (p: CompiledPolicy, pipeline: Record<string, unknown>): CompiledPolicy => ({ ...p, doc: { ...p.doc, pipeline: { ...p.doc.pipeline, ...pipeline } } });

afterEach(closeAgentWatchers);

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
    const { stub, watcher: w, untilAwaiting } = await agentWatcher({ pipeline: (_s, h) => pipelineSettings(withAgent(h.policy, 'http://127.0.0.1:1')) });
    stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]), turn([toolUse('propose_runbook', rollbackProposal({ title: 'Roll back, version 2' }))]));
    const inc = await untilAwaiting();
    const res = await w.decide({ incidentId: inc.id, approver: 'bob', verdict: 'reject', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:bob', reason: 'not during the sale' });
    expect(res.outcome).toBe('redrafting');
  });
});
