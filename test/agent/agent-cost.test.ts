import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, TRIAGE, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});
const signal = (): AbortSignal => new AbortController().signal;
const hasCachePoint = (blocks: any[]): boolean => blocks.some((b) => b.cachePoint?.type === 'default');

describe('cost levers', () => {
  it('accounts cache reads and writes at the policy prices, with cache points where the prefix reaches the minimum', async () => {
    fx = await agentFixture();
    fx.stub.script(
      DRAFT,
      turn([toolUse('get_correlation', {})], 'tool_use', { inputTokens: 200, outputTokens: 80, cacheWriteInputTokens: 2500 }),
      turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 400, outputTokens: 500, cacheReadInputTokens: 2500, cacheWriteInputTokens: 600 }),
    );
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(r.agentTrace.usage).toEqual({ input: 600, output: 580, cacheRead: 2500, cacheWrite: 3100 });
    // Sonnet at $3 in, $15 out, cache write 1.25× and read 0.1× of input.
    expect(r.agentTrace.usd).toBeCloseTo((600 * 3 + 580 * 15 + 2500 * 0.3 + 3100 * 3.75) / 1e6, 9);
    expect(r.agentTrace.usageByModel[DRAFT]).toEqual(r.agentTrace.usage);
    const body = fx.stub.calls[0]?.body;
    // Tools + system prompt exceed Sonnet's 1,024-token minimum: checkpoints after tools, system and the newest message.
    expect(hasCachePoint(body.toolConfig.tools)).toBe(true);
    expect(hasCachePoint(body.system)).toBe(true);
    expect(hasCachePoint(body.messages.at(-1).content)).toBe(true);
    expect(r.agentTrace.calls[0]?.cachePoints).toEqual({ tools: true, system: true, messages: true });
  });

  it('places no cache point below the model minimum', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]));
    const s = agentSettings({ models: { [DRAFT]: { inputPerMTok: 3, outputPerMTok: 15, cacheMinTokens: 100_000 } } });
    await fx.planner(s).draft(fx.incident, signal());
    const body = fx.stub.calls[0]?.body;
    expect(hasCachePoint(body.system)).toBe(false);
    expect(hasCachePoint(body.toolConfig.tools)).toBe(false);
  });

  it('a small triage model that finds a fitting template skips the investigation', async () => {
    fx = await agentFixture();
    fx.stub.script(TRIAGE, turn([toolUse('triage_decision', { investigate: false, templateId: 'rollback-suspect-deployment', reason: 'one suspect right before the onset' })], 'tool_use', { inputTokens: 900, outputTokens: 40 }));
    const r = await fx.planner(agentSettings({ triageModel: TRIAGE })).draft(fx.incident, signal());
    expect(fx.stub.calls.map((c) => c.modelId)).toEqual([TRIAGE]);
    expect(fx.stub.calls[0]?.body.toolConfig.toolChoice).toEqual({ tool: { name: 'triage_decision' } });
    expect(r.agentTrace).toMatchObject({ planner: 'template', fallbackReason: null, triage: { investigate: false, templateId: 'rollback-suspect-deployment' } });
    expect(r.kind === 'drafted' && r.runbook.templateId).toBe('rollback-suspect-deployment');
    expect(r.agentTrace.usd).toBeCloseTo((900 * 1 + 40 * 5) / 1e6, 9);
  });

  it('triage naming a template that does not apply leads to an investigation by the drafting model', async () => {
    fx = await agentFixture();
    fx.stub.script(TRIAGE, turn([toolUse('triage_decision', { investigate: false, templateId: 'restart-service-everywhere', reason: 'x' })]));
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ triageModel: TRIAGE })).draft(fx.incident, signal());
    expect(fx.stub.calls.map((c) => c.modelId)).toEqual([TRIAGE, DRAFT]);
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.agentTrace.triage?.investigate).toBe(true);
  });

  it('an oversized tool result is replaced by an instruction to narrow the query', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('query_logs', { limit: 50, minutesBefore: 60, minutesAfter: 60 })]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ toolResultMaxChars: 500 })).draft(fx.incident, signal());
    const result = JSON.stringify(fx.stub.calls[1]?.body.messages.at(-1).content[0]);
    expect(result).toContain('too_large');
    expect(result).toContain('narrow the query');
    expect(r.agentTrace.toolCalls[0]).toMatchObject({ name: 'query_logs', status: 'error', capped: true });
  });

  it('writes tokens and dollars of the run as one CloudWatch EMF log line', async () => {
    fx = await agentFixture();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 10, cacheWriteInputTokens: 20 }));
    const r = await fx.planner(agentSettings(), { logger }).draft(fx.incident, signal());
    const rec = lines.map((l) => JSON.parse(l)).find((x) => x.msg === 'agent run finished');
    expect(rec._aws.CloudWatchMetrics[0].Namespace).toBe('CloudopsWatcher/Agent');
    expect(rec._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).toEqual(['InputTokens', 'OutputTokens', 'CacheReadTokens', 'CacheWriteTokens', 'CostUsd', 'ToolCalls', 'Fallback']);
    expect(rec).toMatchObject({ Planner: 'agent', FallbackReason: 'none', InputTokens: 100, OutputTokens: 50, CacheReadTokens: 10, CacheWriteTokens: 20, Fallback: 0, incidentId: fx.incident.id, sessionId: r.agentTrace.sessionId });
    expect(rec.CostUsd).toBeCloseTo((100 * 3 + 50 * 15 + 10 * 0.3 + 20 * 3.75) / 1e6, 6);
  });
});
