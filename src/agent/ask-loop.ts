import type { ContentBlock, ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import { Conversation } from './conversation.js';
import type { ToolCallRecord } from './dispatch.js';
import { AgentError } from './errors.js';
import { cacheMinFor, callModel, runTools, type LoopDeps, type RunLog } from './loop.js';
import { buildRequest, type BuiltRequest } from './request.js';

/** The answer loop's only final tool. There is no propose tool here: a question can never change the runbook. */
export const ANSWER_TOOL = 'answer_question';

const answerSchema = z.strictObject({
  answer: z.string().min(1).max(4000).describe('the answer, in plain words, for the person who asked'),
  citations: z
    .array(
      z.strictObject({
        toolUseId: z.string().min(1).max(200).describe('the toolUseId of a tool result you used'),
        observation: z.string().min(1).max(500).describe('what that result showed'),
      }),
    )
    .max(20)
    .default([])
    .describe('the tool results the answer rests on'),
  gaps: z.array(z.string().min(1).max(300)).max(10).default([]).describe('what you could not check, and why'),
});

/** One piece of evidence an answer rests on: a tool result the agent really received in this session. */
export interface Citation {
  readonly toolUseId: string;
  readonly tool: string;
  readonly args: string;
  readonly status: ToolCallRecord['status'];
  readonly observation: string;
}

export interface AnswerDraft {
  readonly answer: string;
  readonly citations: readonly Citation[];
  /** Ids the model cited that no tool call of this session returned (dropped, shown as such). */
  readonly unverified: readonly string[];
  readonly gaps: readonly string[];
}

const ANSWER_SPEC = (): { name: string; description: string; schema: Record<string, unknown> } => {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(answerSchema, { io: 'input' }) as Record<string, unknown>;
  return { name: ANSWER_TOOL, description: 'Your answer to the question, with the tool results it rests on. Call it exactly once.', schema };
};

function toolSchema(t: LoopDeps['tools'][number]): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}

function request(deps: LoopDeps, conv: Conversation, final: boolean): BuiltRequest {
  const s = deps.settings;
  const investigation = deps.tools.map((t) => ({ name: t.name, description: t.description, schema: toolSchema(t) }));
  return buildRequest({
    modelId: s.draftModel,
    system: deps.policyContext ? `${deps.prompts.system.text}\n\n${deps.policyContext}` : deps.prompts.system.text,
    tools: final ? [ANSWER_SPEC()] : [...investigation, ANSWER_SPEC()],
    messages: conv.snapshot(),
    maxTokens: s.maxTokensPerCall,
    ...(final ? { forceTool: ANSWER_TOOL } : {}),
    cacheMinTokens: cacheMinFor(deps, s.draftModel),
    guardrail: s.guardrail,
  }, deps.count);
}

/** Citations kept only when they name a tool result of this session. Pure. */
export function verifyCitations(cited: readonly { toolUseId: string; observation: string }[], calls: ReadonlyMap<string, ToolCallRecord>): { citations: Citation[]; unverified: string[] } {
  const citations: Citation[] = [];
  const unverified: string[] = [];
  for (const c of cited) {
    const call = calls.get(c.toolUseId);
    if (call) citations.push({ toolUseId: c.toolUseId, tool: call.name, args: call.args, status: call.status, observation: c.observation });
    else unverified.push(c.toolUseId.slice(0, 100));
  }
  return { citations, unverified };
}

/**
 * Answers one question: call, run the read-only tools, repeat, until the model calls answer_question.
 * Bounded by `maxSteps` (the last step offers only the answer tool), the question's budget, the breaker
 * and the deadline (all in `deps`); one repair of an invalid answer. A call to any tool not offered
 * (propose_runbook, anything that sounds like approving) gets an unknown_tool error and does nothing.
 * Throws AgentError.
 */
export async function answerQuestion(deps: LoopDeps, briefing: string, log: RunLog, maxSteps: number): Promise<AnswerDraft> {
  const conv = new Conversation(briefing);
  const byId = new Map<string, ToolCallRecord>();
  let repaired = false;
  let mustFinish = false;
  for (let step = 1; step <= maxSteps + 1; step++) {
    if (step > maxSteps && !repaired) break;
    log.summarized += conv.applyWindow(deps.count, deps.settings.summarizeAboveTokens, deps.settings.keepToolResults);
    let final: boolean = mustFinish || step >= maxSteps;
    let req = request(deps, conv, final);
    const estimate = (r: BuiltRequest) => ({ model: deps.settings.draftModel, inputTokens: r.estimatedInputTokens, maxOutputTokens: deps.settings.maxTokensPerCall });
    let admitted = deps.budget.admit(estimate(req));
    if (!admitted.admit && !final) {
      log.gaps.push({ what: 'further investigation', why: 'budget_cut', detail: admitted.reason });
      conv.addUserText(deps.prompts.finish.text);
      final = true;
      req = request(deps, conv, true);
      admitted = deps.budget.admit(estimate(req));
    }
    if (!admitted.admit) throw new AgentError('budget', admitted.reason);
    mustFinish = final;
    log.steps = step;
    const out = await callModel(deps, log, req, step, repaired && step > maxSteps ? 'repair' : final ? 'final' : 'investigate');
    if (out.stopReason === 'guardrail_intervened' || out.stopReason === 'content_filtered') throw new AgentError('guardrail', `the model's answer was blocked (${out.stopReason})`);
    if (out.stopReason === 'model_context_window_exceeded') throw new AgentError('budget', 'the conversation exceeded the model context window');
    const content: ContentBlock[] = out.output?.message?.content ?? [];
    const uses = content.flatMap((b) => (b.toolUse ? [b.toolUse] : []));
    const answerUse = uses.find((u) => u.name === ANSWER_TOOL);
    let issues: string[];
    if (answerUse) {
      const parsed = answerSchema.safeParse(answerUse.input);
      if (parsed.success) {
        const v = verifyCitations(parsed.data.citations, byId);
        return { answer: parsed.data.answer, ...v, gaps: parsed.data.gaps };
      }
      issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    } else if (uses.length > 0 && !final) {
      conv.addAssistant(content);
      await runSome(deps, conv, log, uses, step, step + 1 >= maxSteps, byId);
      continue;
    } else if (uses.length === 0) {
      const text = content.flatMap((b) => (b.text ? [b.text] : [])).join('\n').trim();
      // A plain-text answer is still an answer (it cites nothing): refusing it would only cost another call.
      if (text) return { answer: text.slice(0, 4000), citations: [], unverified: [], gaps: [] };
      issues = [`answer with the ${ANSWER_TOOL} tool`];
    } else {
      issues = [`only ${ANSWER_TOOL} is offered now; you called ${uses.map((u) => u.name).join(', ')}`];
    }
    if (repaired) throw new AgentError('invalid_output', `the model did not give a valid answer after a repair (${issues.join('; ').slice(0, 300)})`);
    repaired = true;
    mustFinish = true;
    conv.addAssistant(content);
    const repairText = `${deps.prompts.repair.text}\n- ${issues.join('\n- ')}`;
    if (uses.length > 0) {
      conv.addToolResults(uses.map((u) => ({ block: { toolUseId: u.toolUseId, status: 'error', content: [{ text: u.name === ANSWER_TOOL ? 'invalid input, see below' : 'not offered on this step' }] }, summary: 'repair' })), repairText);
    } else conv.addUserText(repairText);
  }
  throw new AgentError('step_cap', `no answer within ${maxSteps} steps`);
}

/** Runs a turn's tool calls and remembers which record belongs to which toolUseId (for citations). */
async function runSome(deps: LoopDeps, conv: Conversation, log: RunLog, uses: readonly ToolUseBlock[], step: number, finishNext: boolean, byId: Map<string, ToolCallRecord>): Promise<void> {
  const before = log.toolCalls.length;
  await runTools(deps, conv, log, uses, step, finishNext);
  uses.forEach((u, i) => {
    const rec = log.toolCalls[before + i];
    if (u.toolUseId && rec && rec.status !== 'error') byId.set(u.toolUseId, rec);
  });
}
