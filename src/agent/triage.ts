import { z } from 'zod';
import type { RunbookTemplate } from '../runbook/template.js';
import { cacheMinFor, callModel, type LoopDeps, type RunLog } from './loop.js';
import type { Prompt } from './prompts.js';
import { buildRequest } from './request.js';
import { AgentError } from './errors.js';

export const TRIAGE_TOOL = 'triage_decision';

const decisionSchema = z.strictObject({
  investigate: z.boolean().describe('true: a stronger model investigates with tools'),
  templateId: z.string().max(100).optional().describe('the applicable template that fits, when investigate is false'),
  reason: z.string().min(1).max(500),
});

export type TriageDecision = { readonly investigate: true; readonly reason: string } | { readonly investigate: false; readonly template: RunbookTemplate; readonly reason: string };

/**
 * One call to the small model: does an applicable template fit as it is, or is an investigation worth
 * it? An answer it cannot back (an unknown or inapplicable template, invalid input) means investigate:
 * triage can only save money, never pick a runbook the watcher would not.
 */
export async function triage(deps: LoopDeps, log: RunLog, model: string, prompt: Prompt, briefing: string, applicable: readonly RunbookTemplate[]): Promise<TriageDecision> {
  if (applicable.length === 0) return { investigate: true, reason: 'no template applies' };
  const { $schema: _ignored, ...schema } = z.toJSONSchema(decisionSchema, { io: 'input' }) as Record<string, unknown>;
  const req = buildRequest({
    modelId: model,
    system: prompt.text,
    tools: [{ name: TRIAGE_TOOL, description: 'Your triage decision.', schema }],
    messages: [{ role: 'user', content: [{ text: briefing }] }],
    maxTokens: 300,
    forceTool: TRIAGE_TOOL,
    cacheMinTokens: cacheMinFor(deps, model),
    guardrail: deps.settings.guardrail,
  }, deps.count);
  const a = deps.budget.admit({ model, inputTokens: req.estimatedInputTokens, maxOutputTokens: 300 });
  if (!a.admit) throw new AgentError('budget', a.reason);
  const out = await callModel(deps, log, req, 0, 'triage');
  if (out.stopReason === 'guardrail_intervened' || out.stopReason === 'content_filtered') throw new AgentError('guardrail', `triage was blocked (${out.stopReason})`);
  const use = out.output?.message?.content?.find((b) => b.toolUse?.name === TRIAGE_TOOL)?.toolUse;
  const parsed = decisionSchema.safeParse(use?.input);
  if (!parsed.success) return { investigate: true, reason: 'triage answer was invalid' };
  const d = parsed.data;
  if (d.investigate) return { investigate: true, reason: d.reason };
  const template = applicable.find((t) => t.id === d.templateId);
  if (!template) return { investigate: true, reason: `triage named no applicable template (${d.templateId ?? 'none'})` };
  return { investigate: false, template, reason: d.reason };
}
