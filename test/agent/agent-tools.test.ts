import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { epochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { deploymentsTool } from '../../src/agent/tools/deployments.js';
import { logsQueryTool } from '../../src/agent/tools/logs-query.js';
import { metricSeriesTool } from '../../src/agent/tools/metric-series.js';
import { pastIncidentsTool } from '../../src/agent/tools/past-incidents.js';
import { runbookFetchTool } from '../../src/agent/tools/runbook-fetch.js';
import type { ToolContext } from '../../src/agent/tools/tool.js';
import { dispatchTool } from '../../src/agent/dispatch.js';
import { INVESTIGATION_TOOLS } from '../../src/agent/tools/index.js';
import { classifyTurn } from '../../src/agent/stop.js';
import { BedrockStub, turn } from '../helpers/bedrock-stub.js';

const policy = compilePolicy(loadPolicyFile('config/demo.yaml').policy, 'config/demo.yaml');
const ONSET = epochMs(Date.parse('2026-11-02T08:03:00Z'));
const incident = {
  id: 'inc-1', service: 'checkout', state: 'drafting', version: 1, openedAt: ONSET, updatedAt: ONSET, onsetAt: ONSET, signals: [], correlation: null, evidence: null,
  runbook: null, approval: null, steps: [], mutes: [], reason: '', chart: null, verification: null,
} as unknown as Incident;

function ctx(over: Partial<ToolContext> = {}): ToolContext {
  return {
    incident,
    policy,
    metrics: { fetch: async (qs) => qs.map((q) => ({ id: q.id, points: [{ t: epochMs(ONSET - 60_000), v: 3 }, { t: ONSET, v: 48 }] })) },
    logs: { fetch: async () => [] },
    deployments: { list: async () => [] },
    store: { listIncidents: async () => [] },
    templates: loadCatalog(policy.runbookDir, policy.doc.actions),
    signal: new AbortController().signal,
    ...over,
  };
}

describe('agent tools answer with a status envelope', () => {
  it('metric series: a policy metric of the service or its dependencies, with means around the onset', async () => {
    const r = await metricSeriesTool.run({ metricId: 'checkout5xx', minutesBefore: 30, minutesAfter: 20 }, ctx());
    expect(r).toMatchObject({ status: 'success', data: { metricId: 'checkout5xx', meanBefore: 3, meanAfter: 48, points: [[-1, 3], [0, 48]] } });
    // payments is a dependency of checkout: in scope.
    expect((await metricSeriesTool.run({ metricId: 'paymentsCpu', minutesBefore: 5, minutesAfter: 5 }, ctx())).status).toBe('success');
  });
  it('metric series: an unknown metric is not allowed, and the error lists the allowed ids', async () => {
    expect(await metricSeriesTool.run({ metricId: 'rdsCpu', minutesBefore: 5, minutesAfter: 5 }, ctx())).toEqual({ status: 'error', kind: 'not_allowed', message: 'unknown metric "rdsCpu"; allowed: checkout5xx, checkoutLatencyP99, paymentsCpu' });
  });
  it('metric series: no datapoints is no_data, not an error', async () => {
    const r = await metricSeriesTool.run({ metricId: 'checkout5xx', minutesBefore: 5, minutesAfter: 5 }, ctx({ metrics: { fetch: async () => [] } }));
    expect(r.status).toBe('no_data');
  });
  it('a missing permission is named as such', async () => {
    const r = await metricSeriesTool.run({ metricId: 'checkout5xx', minutesBefore: 5, minutesAfter: 5 }, ctx({ metrics: { fetch: async () => { throw new PermanentError('AccessDeniedException: not authorized to perform cloudwatch:GetMetricData'); } } }));
    expect(r).toMatchObject({ status: 'error', kind: 'missing_permission' });
    const t = await deploymentsTool.run({ minutesAfter: 10 }, ctx({ deployments: { list: async () => { throw new TransientError('ThrottlingException'); } } }));
    expect(t).toMatchObject({ status: 'error', kind: 'tool_error', message: expect.stringContaining('transient; you may retry once') });
  });
  it('logs: only the policy log groups of the service and its dependencies, within two hours', async () => {
    expect(await logsQueryTool.run({ logGroups: ['/aws/lambda/secrets'], minutesBefore: 5, minutesAfter: 5, limit: 5 }, ctx())).toEqual({ status: 'error', kind: 'not_allowed', message: 'log groups not in the policy: /aws/lambda/secrets; allowed: /ecs/checkout, /ecs/payments' });
    expect((await logsQueryTool.run({ minutesBefore: 100, minutesAfter: 100, limit: 5 }, ctx())).status).toBe('error');
    expect(await logsQueryTool.run({ filter: '/([/', minutesBefore: 5, minutesAfter: 5, limit: 5 }, ctx())).toMatchObject({ kind: 'invalid_input' });
    let asked: unknown = null;
    const r = await logsQueryTool.run({ filter: 'timeout', minutesBefore: 5, minutesAfter: 5, limit: 5 }, ctx({ logs: { fetch: async (q) => { asked = q; return [{ t: ONSET, group: '/ecs/checkout', message: 'timeout' }]; } } }));
    expect(asked).toEqual({ groups: ['/ecs/checkout'], range: { start: ONSET - 300_000, end: ONSET + 300_000 }, limit: 5, filter: 'timeout' });
    expect(r).toMatchObject({ status: 'success', data: { lines: [{ minutesFromOnset: 0, group: '/ecs/checkout', message: 'timeout' }] } });
  });
  it('runbook fetch: only catalog ids, never a path, and marked as directions', async () => {
    for (const id of ['../../etc/passwd', 'runbooks/restart-service.md', '/etc/passwd', 'restart-service.md']) {
      expect(await runbookFetchTool.run({ id }, ctx())).toMatchObject({ status: 'error', kind: 'not_allowed' });
    }
    expect(await runbookFetchTool.run({ id: 'deploy-everything' }, ctx())).toMatchObject({ status: 'error', kind: 'not_allowed', message: 'no runbook "deploy-everything"; known: restart-service, rollback-suspect-deployment' });
    const ok = await runbookFetchTool.run({ id: 'restart-service' }, ctx());
    expect(ok).toMatchObject({ status: 'success', data: { kind: 'directions', id: 'restart-service' }, note: expect.stringContaining('not results') });
  });
  it('past incidents: finished incidents of the same service, without the current one', async () => {
    const past = { ...incident, id: 'inc-0', state: 'resolved', openedAt: ONSET - 86_400_000, reason: 'recovered', signals: [], runbook: { title: 'Roll back', draftedBy: 'template', steps: [{ action: 'codepipeline.rollback' }] }, steps: [{ action: 'codepipeline.rollback', status: 'succeeded' }] } as unknown as Incident;
    let filter: unknown = null;
    const r = await pastIncidentsTool.run({ limit: 5 }, ctx({ store: { listIncidents: async (f) => { filter = f; return [past, incident]; } } }));
    expect(filter).toMatchObject({ service: 'checkout' });
    expect(r).toMatchObject({ status: 'success', data: { incidents: [{ id: 'inc-0', outcome: 'resolved', steps: [{ action: 'codepipeline.rollback', status: 'succeeded' }] }] } });
  });
  it('dispatch turns a throwing tool and invalid input into error envelopes, never an exception', async () => {
    const offered = new Map(INVESTIGATION_TOOLS.map((t) => [t.name, t]));
    const opts = { maxChars: 10_000, redactPatterns: [/\b\d{3}-\d{2}-\d{4}\b/g], guardrail: null, model: {} as never };
    const thrown = await dispatchTool({ toolUseId: 'a', name: 'get_metric_series', input: { metricId: 'checkout5xx' } }, offered, ctx({ metrics: { fetch: () => { throw new Error('boom'); } } }), 1, opts);
    expect(thrown.record).toMatchObject({ status: 'error', errorKind: 'tool_error' });
    expect(thrown.gap).toMatchObject({ why: 'tool_error' });
    const invalid = await dispatchTool({ toolUseId: 'b', name: 'get_metric_series', input: { metricId: 7 } }, offered, ctx(), 1, opts);
    expect(invalid.record).toMatchObject({ status: 'error', errorKind: 'invalid_input' });
    expect(invalid.block.status).toBe('error');
    // Configured PII patterns are removed from what the model sees.
    const pii = await dispatchTool({ toolUseId: 'c', name: 'query_logs', input: {} }, offered, ctx({ logs: { fetch: async () => [{ t: ONSET, group: '/ecs/checkout', message: 'customer ssn 123-45-6789 failed' }] } }), 1, opts);
    expect(JSON.stringify(pii.block)).not.toContain('123-45-6789');
    expect(JSON.stringify(pii.block)).toContain('<redacted>');
  });
});

describe('Converse reference examples through the real SDK parser', () => {
  const stub = new BedrockStub();
  beforeAll(async () => { await stub.start(); });
  afterAll(async () => { await stub.stop(); });

  it('a tool-use answer (the API reference shape) parses into tool calls', async () => {
    stub.script('anthropic.claude-3-sonnet-20240229-v1:0', turn([
      { text: "I'll look up the most popular song on WZPZ." },
      { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', input: { sign: 'WZPZ' } } },
    ], 'tool_use', { inputTokens: 375, outputTokens: 36 }));
    const out = await stub.client().send(new ConverseCommand({ modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', messages: [{ role: 'user', content: [{ text: 'What is the most popular song on WZPZ?' }] }] }));
    expect(out.usage).toMatchObject({ inputTokens: 375, outputTokens: 36, totalTokens: 411 });
    expect(classifyTurn(out)).toEqual({ kind: 'tools', uses: [{ toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', input: { sign: 'WZPZ' } }] });
    // The request the SDK sent is the documented JSON body on POST /model/{modelId}/converse.
    expect(stub.calls[0]).toMatchObject({ modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', body: { messages: [{ role: 'user', content: [{ text: 'What is the most popular song on WZPZ?' }] }] } });
  });

  it('an end_turn text answer is a turn without an answer', async () => {
    stub.script('m', turn([{ text: 'The most popular song on WZPZ is Elemental Hotel by 8 Storey Hike.' }], 'end_turn', { inputTokens: 420, outputTokens: 19 }));
    const out = await stub.client().send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    expect(classifyTurn(out)).toEqual({ kind: 'no_answer', text: 'The most popular song on WZPZ is Elemental Hotel by 8 Storey Hike.' });
  });
});
