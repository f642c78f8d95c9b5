import { afterEach, describe, expect, it } from 'vitest';
import type { PlanTrace } from '../../src/runbook/planner.js';
import { decisionRecord } from '../../src/server/render/decision-record.js';
import { toolUse, turn, type ConverseCall } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

afterEach(closeAgentWatchers);

/** A long investigation: five tool steps, one call each, then the answer. */
const INVESTIGATION = [
  { id: 'tu-1', name: 'query_logs', input: { filter: 'ERROR', limit: 20 } },
  { id: 'tu-2', name: 'get_metric_series', input: { metricId: 'checkout5xx' } },
  { id: 'tu-3', name: 'list_deployments', input: {} },
  { id: 'tu-4', name: 'query_logs', input: { filter: 'GET /cart', limit: 20 } },
  { id: 'tu-5', name: 'get_correlation', input: {} },
] as const;

interface SeenResult {
  readonly toolUseId: string;
  readonly text: string;
}
/** Every tool result a request carried, in order. */
const resultsIn = (c: ConverseCall): SeenResult[] =>
  (c.body.messages as any[]).flatMap((m) => (m.content as any[]).filter((b) => b.toolResult).map((b) => ({ toolUseId: b.toolResult.toolUseId as string, text: (b.toolResult.content as any[]).map((x) => x.text ?? '').join('') })));
const toolUseIdsIn = (c: ConverseCall): string[] => (c.body.messages as any[]).flatMap((m) => (m.content as any[]).filter((b) => b.toolUse).map((b) => b.toolUse.toolUseId as string));
const marker = (text: string): string | null => /<<<DATA-([0-9a-f]{24})/.exec(text)?.[1] ?? null;
const SUMMARY = '[summarized to save context; ask again if you need it] ';

describe('the sliding window through the pipeline (issue 11 item 4)', () => {
  it('older tool results are summarized in what the model receives, never dropped, the newest kept verbatim; the audit record keeps the whole investigation', async () => {
    // Prepare: a window that summarizes above 1,000 estimated tokens and keeps the newest two results.
    const keep = 2;
    const { h, stub, untilAwaiting } = await agentWatcher({ settings: agentSettings({ maxSteps: 8, window: { summarizeAboveTokens: 1000, keepToolResults: keep } }) });
    stub.script(DRAFT, ...INVESTIGATION.map((t) => turn([toolUse(t.name, t.input, t.id)])), turn([toolUse('propose_runbook', rollbackProposal())]));

    // Act.
    const inc = await untilAwaiting();

    // Assess: each raw result as first sent (request k + 1 carries result k verbatim, newest).
    expect(stub.calls).toHaveLength(INVESTIGATION.length + 1);
    const raw = new Map<string, string>();
    INVESTIGATION.forEach((t, k) => {
      const first = resultsIn(stub.calls[k + 1] as ConverseCall).find((r) => r.toolUseId === t.id);
      expect(first?.text.startsWith(`Result of tool ${t.name}.`), t.id).toBe(true);
      raw.set(t.id, first?.text ?? '');
    });
    // The last request: every toolUse still has its result (nothing dropped); the newest `keep` verbatim,
    // the older ones replaced by their one-line summary, their raw data gone.
    const last = stub.calls.at(-1) as ConverseCall;
    const results = resultsIn(last);
    expect(toolUseIdsIn(last)).toEqual(INVESTIGATION.map((t) => t.id));
    expect(results.map((r) => r.toolUseId)).toEqual(INVESTIGATION.map((t) => t.id));
    const older = INVESTIGATION.slice(0, INVESTIGATION.length - keep);
    const newest = INVESTIGATION.slice(INVESTIGATION.length - keep);
    const lastText = JSON.stringify(last.body);
    for (const t of older) {
      const r = results.find((x) => x.toolUseId === t.id);
      const rawText = raw.get(t.id) ?? '';
      expect(r?.text, t.id).toMatch(new RegExp(`^${escapeRe(SUMMARY)}${t.name}\\(${escapeRe(canonical(t.input).slice(0, 120))}\\) → (success, ${rawBodyChars(rawText)} characters|no_data: .+)$`));
      expect(lastText).not.toContain(`DATA-${marker(rawText)}`);
    }
    for (const t of newest) expect(results.find((x) => x.toolUseId === t.id)?.text).toBe(raw.get(t.id));
    // A result once summarized is never sent verbatim again.
    for (const t of older) {
      const from = stub.calls.findIndex((c) => resultsIn(c).some((r) => r.toolUseId === t.id && r.text.startsWith(SUMMARY)));
      expect(from, t.id).toBeGreaterThan(0);
      for (const c of stub.calls.slice(from)) expect(JSON.stringify(c.body)).not.toContain(`DATA-${marker(raw.get(t.id) ?? '')}`);
    }

    // The audit record keeps the full investigation: every call in order with its arguments and the size of what it returned.
    const proposed = (await h.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'awaiting_approval');
    const plan = proposed?.data['plan'] as PlanTrace;
    expect(plan.investigation?.summarizedToolResults).toBe(older.length);
    expect(plan.investigation?.toolCalls.map((c) => [c.step, c.name, c.args, c.resultChars])).toEqual(INVESTIGATION.map((t, k) => [k + 1, t.name, canonical(t.input), raw.get(t.id)?.length]));
    expect(plan.investigation?.steps).toBe(INVESTIGATION.length + 1);
    expect(plan.investigation?.finalAnswer).toMatchObject({ decision: 'runbook' });
    const record = decisionRecord({ incident: inc, decisions: [], audit: await h.store.listAudit({ incidentId: inc.id }), verification: await h.store.verifyAudit() }).join('\n');
    for (const [k, t] of INVESTIGATION.entries()) expect(record).toContain(`tool ${k + 1} ${t.name}(${canonical(t.input)}) → `);
    expect(inc.runbook?.draftedBy).toBe(DRAFT);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Characters of the JSON body inside a fenced result (what the summary counts). */
function rawBodyChars(fenced: string): number {
  const lines = fenced.split('\n');
  return lines.slice(3, -1).join('\n').length;
}

/** The arguments as the record keeps them (keys sorted). */
function canonical(input: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(input).sort(([a], [b]) => a.localeCompare(b))));
}
