import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { bedrockError, toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});
const signal = (): AbortSignal => new AbortController().signal;
const toolNames = (body: any): string[] => body.toolConfig.tools.map((t: any) => t.toolSpec?.name).filter(Boolean);

describe('AgentPlanner limits and fallbacks', () => {
  it('a model that keeps calling tools is offered only propose_runbook on the last step, gets one repair, then falls back (step_cap)', async () => {
    fx = await agentFixture();
    const loop = (): ReturnType<typeof turn> => turn([toolUse('get_metric_series', { metricId: 'checkout5xx' })]);
    fx.stub.script(DRAFT, loop, loop, loop, loop, loop, loop);
    const r = await fx.planner(agentSettings({ maxSteps: 3 })).draft(fx.incident, signal());

    expect(fx.stub.calls).toHaveLength(4); // three steps and the one repair
    expect(toolNames(fx.stub.calls[0]?.body)).toContain('get_metric_series');
    for (const c of fx.stub.calls.slice(2)) {
      expect(toolNames(c.body)).toEqual(['propose_runbook']);
      expect(c.body.toolConfig.toolChoice).toEqual({ tool: { name: 'propose_runbook' } });
    }
    expect(r.agentTrace.fallbackReason).toBe('step_cap');
    expect(r.agentTrace.planner).toBe('template');
    expect(r.kind).toBe('drafted');
    if (r.kind === 'drafted') {
      expect(r.runbook.draftedBy).toBe('template');
      expect(r.runbook.body).toMatch(/^> The agent could not draft this runbook \(step_cap: /);
    }
  });

  it('an answer on the last step is accepted, and the step cap is never exceeded without a repair', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {})]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ maxSteps: 2 })).draft(fx.incident, signal());
    expect(r.kind).toBe('drafted');
    expect(r.agentTrace.planner).toBe('agent');
    expect(toolNames(fx.stub.calls[1]?.body)).toEqual(['propose_runbook']);
    // The last tool results came with the instruction to finish.
    expect(JSON.stringify(fx.stub.calls[1]?.body.messages.at(-1))).toContain('last step of the investigation');
  });

  it('falls back when the per-incident dollar budget cannot cover the next call', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {})], 'tool_use', { inputTokens: 6000, outputTokens: 1500 }), turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ budget: { usdPerIncident: 0.06 } })).draft(fx.incident, signal());
    expect(fx.stub.calls).toHaveLength(1);
    expect(r.agentTrace.fallbackReason).toBe('budget');
    expect(r.agentTrace.fallbackDetail).toMatch(/dollar budget: \$0\.0405 spent/);
    expect(r.agentTrace.usd).toBeCloseTo((6000 * 3 + 1500 * 15) / 1e6, 9);
    expect(r.kind === 'drafted' && r.runbook.draftedBy).toBe('template');
  });

  it('when only a final answer still fits the budget, the investigation is cut and the cut is listed as a gap', async () => {
    fx = await agentFixture();
    // The injected counter makes the investigation tools expensive and everything else cheap.
    const count = (t: string): number => (t.includes('"toolSpec"') && t.includes('get_metric_series') ? 50_000 : Math.ceil(t.length / 4));
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ budget: { tokensPerIncident: 40_000 } }), { count }).draft(fx.incident, signal());
    expect(toolNames(fx.stub.calls[0]?.body)).toEqual(['propose_runbook']);
    expect(JSON.stringify(fx.stub.calls[0]?.body.messages.at(-1))).toContain('last step of the investigation');
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.agentTrace.analysis?.gaps).toContainEqual({ what: 'further investigation', why: 'budget_cut', detail: expect.stringMatching(/^token budget: 0 used \+ up to \d+ for the next call > 40000$/) });
    expect(r.kind === 'drafted' && r.runbook.body).toContain('budget cut');
  });

  it('falls back when the token budget is too small for even the first call, without calling the model', async () => {
    fx = await agentFixture();
    const r = await fx.planner(agentSettings({ budget: { tokensPerIncident: 1000 } })).draft(fx.incident, signal());
    expect(fx.stub.calls).toHaveLength(0);
    expect(r.agentTrace.fallbackReason).toBe('budget');
    expect(r.agentTrace.fallbackDetail).toMatch(/^token budget/);
  });

  it('an open spend breaker sends the incident to the template planner without a model call, and stays open after a restart', async () => {
    fx = await agentFixture();
    const settings = agentSettings({ breaker: { usdPerHour: 0.01, usdPerDay: 1 } });
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 4000, outputTokens: 500 }));
    const first = await fx.planner(settings).draft(fx.incident, signal());
    expect(first.agentTrace.planner).toBe('agent'); // spent $0.0195, over the hourly limit
    expect(fx.stub.calls).toHaveLength(1);

    const second = await fx.planner(settings).draft(fx.incident, signal());
    expect(second.agentTrace.fallbackReason).toBe('breaker_open');
    expect(second.agentTrace.fallbackDetail).toMatch(/in the last hour reached the limit of \$0\.01/);
    expect(fx.stub.calls).toHaveLength(1);

    // A restarted daemon: a new store on the same SQLite file.
    const reopened = new SqliteStore(join(fx.h.dataDir, 'cloudops.db'));
    try {
      const third = await fx.planner(settings, { store: reopened }).draft(fx.incident, signal());
      expect(third.agentTrace.fallbackReason).toBe('breaker_open');
      expect(fx.stub.calls).toHaveLength(1);
      // An hour later (virtual time) the hourly window has passed and the agent runs again.
      fx.h.clock.advance(61 * 60_000);
      fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())]));
      const later = await fx.planner(settings, { store: reopened }).draft(fx.incident, signal());
      expect(later.agentTrace.planner).toBe('agent');
    } finally {
      await reopened.close();
    }
  });

  it('retries throttling with backoff, then falls back (throttled)', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, ...Array.from({ length: 3 }, () => bedrockError(429, 'ThrottlingException', 'Too many requests, please wait before trying again.')));
    const r = await fx.planner(agentSettings({ retries: 2 })).draft(fx.incident, signal());
    expect(fx.stub.calls).toHaveLength(3);
    expect(r.agentTrace.fallbackReason).toBe('throttled');
    expect(r.agentTrace.fallbackDetail).toMatch(/ThrottlingException \(429\).*after 3 attempts/);
  });

  it('a throttled call that succeeds on retry continues the run', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, bedrockError(503, 'ServiceUnavailableException'), turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings({ retries: 2 })).draft(fx.incident, signal());
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.agentTrace.calls[0]?.attempts).toBe(2);
  });

  it('a validation error is not retried', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, bedrockError(400, 'ValidationException', 'temperature and top_p cannot both be specified'));
    const r = await fx.planner(agentSettings({ retries: 3 })).draft(fx.incident, signal());
    expect(fx.stub.calls).toHaveLength(1);
    expect(r.agentTrace.fallbackReason).toBe('model_error');
  });

  it('malformed propose_runbook input gets one repair turn naming the problems, then falls back (invalid_output)', async () => {
    fx = await agentFixture();
    const bad = rollbackProposal({ confidence: 5 });
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', bad)]), turn([toolUse('propose_runbook', bad)]));
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(fx.stub.calls).toHaveLength(2);
    const repair = fx.stub.calls[1]?.body.messages.at(-1);
    expect(repair.role).toBe('user');
    expect(repair.content[0].toolResult.status).toBe('error');
    expect(JSON.stringify(repair)).toContain('confidence: Too big');
    expect(r.agentTrace.fallbackReason).toBe('invalid_output');
    expect(r.agentTrace.repairs).toBe(1);
  });

  it('a repaired answer is accepted', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', { decision: 'runbook' })]), turn([toolUse('propose_runbook', rollbackProposal())]));
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(r.agentTrace.planner).toBe('agent');
    expect(r.kind).toBe('drafted');
  });

  it('a proposed step outside the allow-list or its bounds is dropped and shown as rejected by policy', async () => {
    fx = await agentFixture();
    const p = rollbackProposal();
    const steps = [
      { action: 'ssm.runCommand', params: { command: 'rm -rf /' }, description: 'clean up', evidence: [] },
      { action: 'codepipeline.rollback', params: { pipeline: 'checkout deploy; drop', stage: 'Deploy', targetExecutionId: 'x' }, description: 'bad params', evidence: [] },
      ...(p.steps as unknown[]),
    ];
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', { ...p, steps })]));
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(r.kind).toBe('drafted');
    if (r.kind !== 'drafted') return;
    expect(r.runbook.steps.map((s) => s.action)).toEqual(['codepipeline.rollback']);
    expect(r.runbook.steps[0]?.params.pipeline).toBe('checkout-deploy');
    expect(r.agentTrace.analysis?.rejectedSteps.map((s) => s.reason)).toEqual([
      'rejected by policy: action "ssm.runCommand" is not allow-listed',
      'rejected by policy: parameter pipeline="checkout deploy; drop" does not match /[A-Za-z0-9.@_-]{1,100}/',
    ]);
    expect(r.runbook.body).toContain('**Rejected by policy**');
    expect(r.runbook.body).toContain('ssm.runCommand');
  });

  it('"no safe action" with reasons goes to a person (kind none)', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', { decision: 'no_safe_action', hypothesis: 'payments itself is down', confidence: 0.4, noSafeActionReasons: ['no allowed action restarts payments'] })]));
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(r).toMatchObject({ kind: 'none', reason: 'the agent found no safe action: no allowed action restarts payments' });
    expect(r.agentTrace.planner).toBe('agent');
  });

  it('a run past its deadline is aborted and falls back (deadline)', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { inputTokens: 10, outputTokens: 10 }, 3000));
    const started = Date.now();
    const r = await fx.planner(agentSettings({ deadline: '300ms' })).draft(fx.incident, signal());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.agentTrace.fallbackReason).toBe('deadline');
  });

  it('a guardrail intervention on the answer falls back (guardrail), and guardrailConfig is sent', async () => {
    fx = await agentFixture();
    fx.stub.script(DRAFT, turn([{ text: 'Sorry, the model cannot answer that.' }], 'guardrail_intervened'));
    const r = await fx.planner(agentSettings({ guardrail: { id: 'gr-123', version: '2' } })).draft(fx.incident, signal());
    expect(fx.stub.calls[0]?.body.guardrailConfig).toEqual({ guardrailIdentifier: 'gr-123', guardrailVersion: '2', trace: 'enabled' });
    expect(r.agentTrace.fallbackReason).toBe('guardrail');
  });

  it('agent.enabled false drafts from the templates without a call', async () => {
    fx = await agentFixture();
    const r = await fx.planner(agentSettings({ enabled: false })).draft(fx.incident, signal());
    expect(r.agentTrace.fallbackReason).toBe('disabled');
    expect(fx.stub.calls).toHaveLength(0);
  });
});
