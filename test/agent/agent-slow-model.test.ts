import { afterEach, describe, expect, it } from 'vitest';
import type { AgentPlanner } from '../../src/agent/agent-planner.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { BedrockStub, toolUse, turn } from '../helpers/bedrock-stub.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';
import { stubAgentPlanner } from '../helpers/stub-agent-planner.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

let stub: BedrockStub | null = null;
afterEach(async () => {
  await stub?.stop();
  stub = null;
});

/** The agent as the pipeline's planner, built on first use from the world's own ports. */
function agentOn(get: () => FastWorld, s: BedrockStub): AgentPlanner['draft'] {
  let agent: AgentPlanner | null = null;
  return (inc, signal) => {
    const w = get();
    agent ??= stubAgentPlanner(s, agentSettings(), { policy: w.files.policy, store: w.store, clock: w.clock, sim: w.sim, templates: w.files.templates }, { requestTimeoutMs: 10_000 });
    return agent.draft(inc, signal);
  };
}

describe('a slow model does not delay decisions on other incidents (issue 11 tests)', () => {
  it('while the agent waits 2.5 s of wall time on Bedrock for incident B, an approval of incident A executes within a second; B is proposed when the model answers', async () => {
    // Prepare: A drafted by the agent at once; B's Converse answer held back by the server.
    stub = await new BedrockStub().start();
    const s = stub;
    let w: FastWorld | null = null;
    w = fastWorld(demoFiles(), { planner: () => ({ kind: 'agent', draft: agentOn(() => w as FastWorld, s) }) });
    s.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]), turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 1000, outputTokens: 100 }, 2500));
    const a = await seedCheckoutIncident(w, 'checkout-a');
    const watcher = new Watcher(w.deps);
    await watcher.runCycle();
    await watcher.lane.idle();
    const awaiting = await w.store.getIncident(a.id);
    if (awaiting?.state !== 'awaiting_approval' || !awaiting.runbook) throw new Error(`not proposed: ${awaiting?.state}`);
    expect(awaiting.runbook.draftedBy).toBe(DRAFT);
    const b = await seedCheckoutIncident(w, 'checkout-b');
    await watcher.cycle();
    expect((await w.store.getIncident(b.id))?.state).toBe('drafting');
    // B's request reaches the model (the draft runs beside the cycle, so it may take a moment).
    for (let i = 0; i < 100 && s.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.calls).toHaveLength(2);

    // Act: approve A while B's model call is in flight.
    const t0 = performance.now();
    const res = await watcher.decide({ incidentId: a.id, approver: 'alice', verdict: 'approve', runbookHash: awaiting.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.queueIdle();
    const within = performance.now() - t0;

    // Assess: A ran at once; B still waits on Bedrock, then is proposed by the agent (not the fallback).
    expect(res.outcome).toBe('approved');
    expect(within).toBeLessThan(1000);
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.getIncident(a.id))?.state).toBe('verifying');
    expect((await w.store.getIncident(b.id))?.state).toBe('drafting');
    await watcher.lane.idle();
    const proposedB = await w.store.getIncident(b.id);
    expect(proposedB?.state).toBe('awaiting_approval');
    expect(proposedB?.runbook?.draftedBy).toBe(DRAFT);
    watcher.stop();
    await w.store.close();
  });
});
