import { afterEach, describe, expect, it } from 'vitest';
import { toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});
const signal = (): AbortSignal => new AbortController().signal;

describe('prompt caching: the stable content is before the system checkpoint (issue 11 item 4)', () => {
  it('the policy facts are in the system block, identical for two incidents of the policy; the first user message holds only the incident', async () => {
    fx = await agentFixture();
    const other = { ...fx.incident, id: 'payments-20261102-0900', service: 'payments', signals: fx.incident.signals.map((s) => ({ ...s, metricId: 'paymentsCpu' })) };
    // Billed as Bedrock would above the minimum: the first call writes the prefix, the second reads it
    // (a call with checkpoints and no cache tokens would teach the planner the prefix is below the minimum).
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 300, outputTokens: 100, cacheWriteInputTokens: 4000 }), turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 300, outputTokens: 100, cacheReadInputTokens: 4000 }));
    await fx.planner(agentSettings()).draft(fx.incident, signal());
    await fx.planner(agentSettings()).draft(other, signal());

    const [a, b] = fx.stub.calls.map((c) => c.body);
    // Assess: system and tools (the cached prefix) are the same bytes for both incidents, with a checkpoint after the system text.
    expect(JSON.stringify(a.system)).toBe(JSON.stringify(b.system));
    expect(JSON.stringify(a.toolConfig.tools)).toBe(JSON.stringify(b.toolConfig.tools));
    expect(a.system.at(-1)).toEqual({ cachePoint: { type: 'default' } });
    expect(a.system[0].text).toContain('## Allowed actions');
    expect(a.system[0].text).toContain('## Runbook catalog');
    const first = a.messages[0].content[0].text as string;
    expect(first).not.toContain('## Allowed actions');
    expect(first).toContain('- services in scope: checkout, payments');
    expect(b.messages[0].content[0].text).toContain('# Incident payments-20261102-0900 on service payments');
  });
});
