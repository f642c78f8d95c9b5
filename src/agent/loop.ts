import type { ContentBlock, ConverseCommandOutput, ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { AgentSettings } from './agent-policy.js';
import type { CacheMinLearner } from './cache-min.js';
import type { IncidentBudget } from './budget.js';
import { converseWithRetry } from './call.js';
import { Conversation } from './conversation.js';
import { dispatchTool, type ToolCallRecord } from './dispatch.js';
import { AgentError } from './errors.js';
import type { ModelPort } from './model.js';
import { proposalJsonSchema, PROPOSE_TOOL, type Gap, type Proposal } from './proposal.js';
import type { Prompt } from './prompts.js';
import { buildRequest, type BuiltRequest } from './request.js';
import type { SpendBreaker } from './spend-breaker.js';
import { classifyTurn } from './stop.js';
import type { AgentTool, ToolContext } from './tools/tool.js';
import type { FlaggedText } from './untrusted.js';
import { usageFromConverse, type TokenCounter, type TokenUsage } from './usage.js';

/** One model call as the audit record keeps it. */
export interface CallRecord {
  readonly step: number;
  readonly model: string;
  readonly purpose: 'triage' | 'investigate' | 'final' | 'repair';
  readonly usage: TokenUsage;
  readonly usd: number;
  readonly stopReason: string;
  readonly attempts: number;
  readonly latencyMs: number;
  readonly toolsOffered: number;
  readonly cachePoints: BuiltRequest['cachePoints'];
}

export interface LoopDeps {
  readonly model: ModelPort;
  readonly settings: AgentSettings;
  readonly prompts: { readonly system: Prompt; readonly repair: Prompt; readonly finish: Prompt };
  /** The policy's facts every run is told (see policyBriefing): part of the system block, so cached with it. */
  readonly policyContext?: string;
  readonly tools: readonly AgentTool[];
  readonly toolCtx: ToolContext;
  readonly budget: IncidentBudget;
  readonly breaker: SpendBreaker;
  readonly clock: Clock;
  readonly count: TokenCounter;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly signal: AbortSignal;
  /** Learned cache minimums per model (see cache-min.ts); absent: the policy's `cacheMinTokens` as is. */
  readonly cacheMin?: CacheMinLearner;
}

/** Where checkpoints may go for `model`: the policy's minimum, corrected by what Bedrock's billing taught. */
export function cacheMinFor(deps: Pick<LoopDeps, 'settings' | 'cacheMin'>, model: string): number {
  const configured = deps.settings.prices.get(model)?.cacheMinTokens ?? 0;
  return deps.cacheMin ? deps.cacheMin.minFor(model, configured) : configured;
}

/** What a run accumulates; kept even when the run fails, so the fallback's record shows the attempt. */
export class RunLog {
  readonly calls: CallRecord[] = [];
  readonly toolCalls: ToolCallRecord[] = [];
  readonly flagged: FlaggedText[] = [];
  readonly gaps: Gap[] = [];
  readonly seenDeployments = new Set<string>();
  repairs = 0;
  summarized = 0;
  steps = 0;
}

const PROPOSE_SPEC = (): { name: string; description: string; schema: Record<string, unknown> } => ({
  name: PROPOSE_TOOL,
  description: 'Your final answer: the hypothesis, the runbook steps with their evidence, verification and investigation gaps, or no_safe_action with reasons. Call it exactly once.',
  schema: proposalJsonSchema(),
});

/**
 * Calls the model once (budget admitted, breaker closed, retried within the deadline) and books
 * what it cost to the incident and to the cross-incident breaker.
 */
export async function callModel(deps: LoopDeps, log: RunLog, req: BuiltRequest, step: number, purpose: CallRecord['purpose']): Promise<ConverseCommandOutput> {
  const modelId = req.input.modelId ?? '';
  const breaker = await deps.breaker.state(deps.clock.now());
  if (breaker.open) throw new AgentError('breaker_open', breaker.reason);
  const started = performance.now();
  const { output, attempts } = await converseWithRetry(deps.model, req.input, { retries: deps.settings.retries, baseMs: deps.settings.retryBaseMs, sleep: deps.sleep, ...(deps.random ? { random: deps.random } : {}) }, deps.signal);
  const usage = usageFromConverse(output.usage);
  await deps.cacheMin?.observe(modelId, req, usage);
  const usd = deps.budget.record(modelId, usage);
  await deps.breaker.record(deps.clock.now(), usd);
  log.calls.push({ step, model: modelId, purpose, usage, usd, stopReason: output.stopReason ?? 'unknown', attempts, latencyMs: Math.round(performance.now() - started), toolsOffered: req.input.toolConfig?.tools?.filter((t) => t.toolSpec).length ?? 0, cachePoints: req.cachePoints });
  return output;
}

/** Builds the next request; `final` offers only propose_runbook and forces it. */
function nextRequest(deps: LoopDeps, conv: Conversation, final: boolean): BuiltRequest {
  const s = deps.settings;
  const investigation = deps.tools.map((t) => ({ name: t.name, description: t.description, schema: toolSchema(t) }));
  return buildRequest({
    modelId: s.draftModel,
    // Stable content first and all before the system checkpoint: the same prefix for every incident of the policy.
    system: deps.policyContext ? `${deps.prompts.system.text}\n\n${deps.policyContext}` : deps.prompts.system.text,
    // The propose tool is always last, so the cached prefix of tools stays the same on every step but the final one.
    tools: final ? [PROPOSE_SPEC()] : [...investigation, PROPOSE_SPEC()],
    messages: conv.snapshot(),
    maxTokens: s.maxTokensPerCall,
    ...(final ? { forceTool: PROPOSE_TOOL } : {}),
    cacheMinTokens: cacheMinFor(deps, s.draftModel),
    guardrail: s.guardrail,
  }, deps.count);
}

/**
 * Budget admission for step `step`: a normal step if its worst case fits; else the final step (only
 * propose_runbook, the rest noted as a budget cut); else the run ends with a budget failure.
 */
function admit(deps: LoopDeps, conv: Conversation, log: RunLog, final: boolean): { req: BuiltRequest; final: boolean } {
  const estimate = (r: BuiltRequest) => ({ model: deps.settings.draftModel, inputTokens: r.estimatedInputTokens, maxOutputTokens: deps.settings.maxTokensPerCall });
  if (!final) {
    const req = nextRequest(deps, conv, false);
    const a = deps.budget.admit(estimate(req));
    if (a.admit) return { req, final: false };
    log.gaps.push({ what: 'further investigation', why: 'budget_cut', detail: a.reason });
    conv.addUserText(deps.prompts.finish.text);
  }
  const req = nextRequest(deps, conv, true);
  const a = deps.budget.admit(estimate(req));
  if (!a.admit) throw new AgentError('budget', a.reason);
  return { req, final: true };
}

/** Runs every tool call of one turn; results go back in one user message. A tool not in `deps.tools` answers an unknown_tool error. */
export async function runTools(deps: LoopDeps, conv: Conversation, log: RunLog, uses: readonly ToolUseBlock[], step: number, finishNext: boolean): Promise<void> {
  const offered = new Map(deps.tools.map((t) => [t.name, t]));
  const results = [];
  const s = deps.settings;
  for (const use of uses) {
    const d = await dispatchTool(use, offered, deps.toolCtx, step, { maxChars: s.toolResultMaxChars, redactPatterns: s.redactPatterns, guardrail: s.guardrail, model: deps.model, admitGuardrail: (w) => deps.budget.admitGuardrail(w) });
    if (d.guardrailSpend.units > 0 || d.guardrailSpend.usd > 0) {
      // ApplyGuardrail is billed per text unit: it counts in the incident's budget and in the breaker.
      deps.budget.recordGuardrail(d.guardrailSpend);
      await deps.breaker.record(deps.clock.now(), d.guardrailSpend.usd);
    }
    log.toolCalls.push(d.record);
    log.flagged.push(...d.flags);
    if (d.gap) log.gaps.push(d.gap);
    for (const r of d.refs) log.seenDeployments.add(r);
    results.push({ block: d.block, summary: d.summary });
  }
  conv.addToolResults(results, finishNext ? deps.prompts.finish.text : undefined);
}

function toolSchema(t: AgentTool): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}

/**
 * The investigation: call, dispatch, repeat, until the model proposes. Bounded by the step cap (the
 * last step offers only propose_runbook), the incident budget, the breaker and the deadline; one
 * repair of an invalid answer is allowed (it may be the one call past the cap). Throws AgentError.
 */
export async function investigate(deps: LoopDeps, briefing: string, log: RunLog): Promise<Proposal> {
  const conv = new Conversation(briefing);
  const s = deps.settings;
  for (const c of deps.toolCtx.incident.correlation?.candidates ?? []) log.seenDeployments.add(c.deployment.id);
  let mustFinish = false;
  for (let step = 1; step <= s.maxSteps + 1; step++) {
    // The one call past the cap is the repair of an invalid answer given on the final step.
    if (step > s.maxSteps && log.repairs === 0) break;
    const repairing = step > s.maxSteps;
    log.summarized += conv.applyWindow(deps.count, s.summarizeAboveTokens, s.keepToolResults);
    const { req, final } = admit(deps, conv, log, mustFinish || step >= s.maxSteps);
    mustFinish = final;
    log.steps = step;
    const out = await callModel(deps, log, req, step, repairing ? 'repair' : final ? 'final' : 'investigate');
    const content: ContentBlock[] = out.output?.message?.content ?? [];
    const turn = classifyTurn(out);
    if (turn.kind === 'proposal') return turn.proposal;
    conv.addAssistant(content);
    if (turn.kind === 'tools' && !final) {
      await runTools(deps, conv, log, turn.uses, step, step + 1 >= s.maxSteps);
      continue;
    }
    // An invalid answer, text without an answer, or another tool on the final step: one repair.
    if (log.repairs >= 1) throw new AgentError(final && turn.kind !== 'invalid' ? 'step_cap' : 'invalid_output', `the model did not give a valid answer after a repair (${describe(turn)})`);
    log.repairs++;
    mustFinish = true;
    const issues = turn.kind === 'invalid' ? turn.issues : [turn.kind === 'tools' ? `only ${PROPOSE_TOOL} is offered now; you called ${turn.uses.map((u) => u.name).join(', ')}` : `answer with the ${PROPOSE_TOOL} tool, not text`];
    const uses = content.flatMap((b) => (b.toolUse ? [b.toolUse] : []));
    const repairText = `${deps.prompts.repair.text}\n- ${issues.join('\n- ')}`;
    if (uses.length > 0) {
      // Every toolUse needs its toolResult in the next user turn, or Converse rejects the conversation.
      conv.addToolResults(uses.map((u) => ({ block: { toolUseId: u.toolUseId, status: 'error', content: [{ text: u.name === PROPOSE_TOOL ? 'invalid input, see below' : 'not offered on this step' }] }, summary: 'repair' })), repairText);
    } else conv.addUserText(repairText);
  }
  throw new AgentError('step_cap', `no answer within ${s.maxSteps} steps`);
}

function describe(t: ReturnType<typeof classifyTurn>): string {
  if (t.kind === 'invalid') return t.issues.join('; ').slice(0, 300);
  if (t.kind === 'tools') return `called ${t.uses.map((u) => u.name).join(', ')} when only ${PROPOSE_TOOL} was offered`;
  if (t.kind === 'no_answer') return `text only: ${t.text.slice(0, 100)}`;
  return t.kind;
}
