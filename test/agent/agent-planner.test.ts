import { afterEach, describe, expect, it } from 'vitest';
import { runbookHash } from '../../src/runbook/runbook.js';
import { text, toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, PREVIOUS_ID, rollbackProposal, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

describe('AgentPlanner over the Converse protocol (real SDK client, local stub)', () => {
  it('investigates with real tools on the simulated cloud and drafts an evidence-linked runbook', async () => {
    fx = await agentFixture();
    fx.stub.script(
      DRAFT,
      turn([text('Looking at the metric and logs.'), toolUse('get_metric_series', { metricId: 'checkout5xx' }), toolUse('query_logs', { filter: 'ERROR' })]),
      turn([toolUse('list_deployments', {}), toolUse('get_correlation', {})]),
      turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 300, outputTokens: 400, cacheReadInputTokens: 3000 }),
    );
    const r = await fx.planner(agentSettings()).draft(fx.incident, new AbortController().signal);

    expect(r.kind).toBe('drafted');
    if (r.kind !== 'drafted') return;
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.agentTrace.fallbackReason).toBeNull();
    expect(r.runbook.draftedBy).toBe(DRAFT);
    expect(r.runbook.steps).toEqual([{ action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', stage: 'Deploy', targetExecutionId: PREVIOUS_ID }, description: expect.any(String), risk: 'medium' }]);
    expect(r.runbook.hash).toBe(runbookHash(r.runbook));
    expect(r.runbook.verify).toEqual({ withinMs: 15 * 60_000, healthyPolls: 3 });
    // Evidence rendered as console links, the deployment verified because a tool showed it.
    expect(r.runbook.body).toContain('**Hypothesis** (confidence 80 %)');
    expect(r.runbook.body).toMatch(/\[metric checkout5xx\]\(https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#metricsV2:graph=/);
    expect(r.runbook.body).toContain('#logsV2:logs-insights$3FqueryDetail$3D');
    expect(r.agentTrace.analysis?.evidence[0]?.every((e) => e.verified)).toBe(true);
    // The tools ran for real: the log query saw the scenario's error lines.
    expect(r.agentTrace.toolCalls.map((c) => [c.name, c.status])).toEqual([
      ['get_metric_series', 'success'],
      ['query_logs', 'success'],
      ['list_deployments', 'success'],
      ['get_correlation', 'success'],
    ]);
    const second = fx.stub.calls[1]?.body;
    const logResult = JSON.stringify(second.messages.at(-1).content[1]);
    expect(logResult).toContain('PaymentClientV2 timeout');
    expect(logResult).toMatch(/<<<DATA-[0-9a-f]{24}/);
    // Trace: session id, prompt hashes, tokens and dollars at the policy's prices.
    expect(r.agentTrace.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.agentTrace.promptHashes.investigate).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.agentTrace.usage).toEqual({ input: 2300, output: 600, cacheRead: 3000, cacheWrite: 0 });
    expect(r.agentTrace.usd).toBeCloseTo((2300 * 3 + 600 * 15 + 3000 * 0.3) / 1e6, 9);
    // The request the SDK sent: system prompt, tools from the zod schema, temperature without topP.
    const first = fx.stub.calls[0]?.body;
    expect(first.system[0].text).toContain('You can only propose');
    expect(first.toolConfig.tools.map((t: any) => t.toolSpec?.name).filter(Boolean)).toContain('propose_runbook');
    expect(first.inferenceConfig).toEqual({ maxTokens: 2048, temperature: 0 });
  });

  it('what the agent could not check is listed as an investigation gap: a log query refused for a missing permission, beside the gaps the model names', async () => {
    fx = await agentFixture();
    const denied = { fetch: async () => Promise.reject(Object.assign(new Error('User is not authorized to perform: logs:StartQuery'), { name: 'AccessDeniedException' })) };
    fx.stub.script(DRAFT, turn([toolUse('query_logs', { filter: 'ERROR' })]), turn([toolUse('propose_runbook', rollbackProposal({ gaps: [{ what: 'payments traces', why: 'other', detail: 'no tracing tool is offered' }] }))]));
    const r = await fx.planner(agentSettings(), { logs: denied }).draft(fx.incident, new AbortController().signal);
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.agentTrace.toolCalls[0]).toMatchObject({ name: 'query_logs', status: 'error', errorKind: 'missing_permission' });
    expect(r.agentTrace.analysis?.gaps).toEqual([
      { what: 'query_logs({"filter":"ERROR"})', why: 'missing_permission', detail: expect.stringContaining('permission missing') },
      { what: 'payments traces', why: 'other', detail: 'no tracing tool is offered' },
    ]);
    expect(r.kind === 'drafted' && r.runbook.body).toMatch(/\*\*Investigation gaps\*\* \(what could not be checked\)\n- query_logs\(\{"filter":"ERROR"\}\) — missing permission: .*permission missing/);
    expect(r.trace.investigation?.gaps.map((g) => g.why)).toEqual(['missing_permission', 'other']);
  });
});
