import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { guardrailCost, worstGuardrailCost } from '../../src/agent/guardrail-cost.js';
import { planSpendMetrics } from '../../src/pipeline/metrics.js';
import { toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});
const signal = (): AbortSignal => new AbortController().signal;
const PRICES = { contentPer1kUnits: 0.15, topicPer1kUnits: 0.15, sensitiveInformationPer1kUnits: 0.1, contextualGroundingPer1kUnits: 0.1 };

describe('ApplyGuardrail costs (pure)', () => {
  it('bills the priced policies per text unit; word filters and free PII units cost nothing', () => {
    expect(guardrailCost({ contentPolicyUnits: 3, topicPolicyUnits: 3, wordPolicyUnits: 3, sensitiveInformationPolicyUnits: 2, sensitiveInformationPolicyFreeUnits: 5, contextualGroundingPolicyUnits: 0 }, PRICES)).toEqual({ units: 8, usd: (3 * 0.15 + 3 * 0.15 + 2 * 0.1) / 1000 });
    expect(guardrailCost(undefined, PRICES)).toEqual({ units: 0, usd: 0 });
  });

  it('the worst case of screening N characters: one unit per started 1,000 characters on every priced policy', () => {
    expect(worstGuardrailCost(2001, PRICES)).toEqual({ units: 12, usd: (3 * 0.15 + 3 * 0.15 + 3 * 0.1 + 3 * 0.1) / 1000 });
    expect(worstGuardrailCost(0, PRICES).units).toBe(4);
  });
});

describe('ApplyGuardrail in the per-incident budget', () => {
  it('each screened tool result is billed: the trace, the dollars and the plan spend include it', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {}), toolUse('list_deployments', {})]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const plain = await fx.planner(agentSettings()).draft(fx.incident, signal());
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {}), toolUse('list_deployments', {})]), turn([toolUse('propose_runbook', rollbackProposal())]));

    const screened = await fx.planner(agentSettings({ guardrail: { id: 'gr-1', version: '1' } })).draft(fx.incident, signal());

    // The stub bills content and topic units per started 1,000 characters of each screened result.
    const units = fx.stub.guardrailCalls.reduce((n, c) => n + 2 * Math.max(1, Math.ceil(String(c.body.content[0].text.text).length / 1000)), 0);
    expect(fx.stub.guardrailCalls).toHaveLength(2);
    expect(screened.agentTrace.guardrail.units).toBe(units);
    expect(screened.agentTrace.guardrail.usd).toBeCloseTo((units * 0.15) / 1000, 10);
    expect(screened.agentTrace.usd - plain.agentTrace.usd).toBeCloseTo(screened.agentTrace.guardrail.usd, 10);
    expect(screened.trace.spend).toMatchObject({ guardrailUnits: units, usd: screened.agentTrace.usd });
  });

  it('a result whose screening would overrun the dollar budget is withheld, not sent unscreened, and noted as a budget cut', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {})], 'tool_use', { inputTokens: 100, outputTokens: 10 }), turn([toolUse('propose_runbook', rollbackProposal())], 'end_turn', { inputTokens: 100, outputTokens: 10 }));
    // A guardrail priced so that one screening costs more than the whole incident budget.
    const s = agentSettings({ maxTokensPerCall: 256, budget: { usdPerIncident: 0.05 }, guardrail: { id: 'gr-1', version: '1', prices: { contentPer1kUnits: 20, topicPer1kUnits: 20, sensitiveInformationPer1kUnits: 20, contextualGroundingPer1kUnits: 20 } } });

    const r = await fx.planner(s).draft(fx.incident, signal());

    expect(fx.stub.guardrailCalls).toHaveLength(0);
    expect(r.agentTrace.toolCalls[0]).toMatchObject({ name: 'get_correlation', status: 'error', guardrail: 'budget_cut' });
    const sent = JSON.stringify(fx.stub.calls[1]?.body.messages.at(-1).content);
    expect(sent).toContain('withheld by the content guardrail');
    expect(sent).not.toContain('"verdict"');
  });
});

describe('/metrics: tokens and dollars per incident', () => {
  it('a plan with spend adds to the token and dollar counters and the per-incident histograms; a plan without spend adds nothing', async () => {
    const registry = new Registry();
    const m = planSpendMetrics(registry);
    m.planned({ planner: 'template', modelId: null, promptHashes: [], tokens: null, toolCalls: [], fallbackReason: null });
    m.planned({ planner: 'agent', modelId: DRAFT, promptHashes: [], tokens: { input: 10, output: 5 }, toolCalls: [], fallbackReason: null, spend: { input: 100, output: 50, cacheRead: 300, cacheWrite: 40, guardrailUnits: 6, usd: 0.012 } });
    const text = await registry.metrics();
    expect(text).toContain('cloudops_agent_tokens_total{kind="input"} 100');
    expect(text).toContain('cloudops_agent_tokens_total{kind="cache_read"} 300');
    expect(text).toContain('cloudops_agent_tokens_total{kind="cache_write"} 40');
    expect(text).toContain('cloudops_agent_usd_total 0.012');
    expect(text).toContain('cloudops_agent_guardrail_text_units_total 6');
    expect(text).toContain('cloudops_agent_incident_usd_count{planner="agent"} 1');
    expect(text).toContain('cloudops_agent_incident_usd_bucket{le="0.02",planner="agent"} 1');
    expect(text).toContain('cloudops_agent_incident_tokens_sum{planner="agent"} 490');
    expect(text).not.toContain('planner="template"');
  });
});
