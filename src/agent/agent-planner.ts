import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeploymentSource, LogSource, MetricSource } from '../cloud/ports.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Incident } from '../incident/incident.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { PlanResult, PlanTrace, Planner } from '../runbook/planner.js';
import { TemplatePlanner } from '../runbook/template-planner.js';
import type { RunbookTemplate } from '../runbook/template.js';
import type { Store } from '../store/store.js';
import type { AgentSettings } from './agent-policy.js';
import { briefing, policyBriefing, triageBriefing } from './briefing.js';
import { agentEmf } from './emf.js';
import { IncidentBudget } from './budget.js';
import { buildDraft, planAnalysisOf, type AgentAnalysis } from './draft.js';
import { AgentError, type FallbackReason } from './errors.js';
import { investigate, RunLog, type CallRecord, type LoopDeps } from './loop.js';
import type { ModelPort } from './model.js';
import type { Proposal } from './proposal.js';
import { defaultPromptDir, loadPrompt, type Prompt } from './prompts.js';
import { SpendBreaker } from './spend-breaker.js';
import { CacheMinLearner } from './cache-min.js';
import { INVESTIGATION_TOOLS } from './tools/index.js';
import type { ToolContext } from './tools/tool.js';
import type { ToolCallRecord } from './dispatch.js';
import type { FlaggedText } from './untrusted.js';
import { estimateTokens, type TokenCounter, type TokenUsage } from './usage.js';
import { triage } from './triage.js';
import type { GuardrailSpend } from './guardrail-cost.js';

/**
 * What one agent run did, for the audit record, /metrics, the page and `show --record`. The lead maps
 * it onto PlanResult.trace: `planner` is who drafted what is proposed, `fallbackReason` why the agent
 * did not.
 */
export interface AgentTrace {
  readonly sessionId: string;
  readonly planner: 'agent' | 'template';
  readonly fallbackReason: FallbackReason | null;
  readonly fallbackDetail: string | null;
  readonly triage: { readonly investigate: boolean; readonly templateId: string | null; readonly reason: string } | null;
  readonly models: { readonly triage: string | null; readonly draft: string };
  readonly promptHashes: Readonly<Record<string, string>>;
  readonly usage: TokenUsage;
  /** Dollars in all: model calls and ApplyGuardrail. */
  readonly usd: number;
  /** ApplyGuardrail on tool results: billed text units and their dollars (included in `usd`). */
  readonly guardrail: GuardrailSpend;
  readonly usageByModel: Readonly<Record<string, TokenUsage>>;
  readonly calls: readonly CallRecord[];
  readonly toolCalls: readonly ToolCallRecord[];
  readonly steps: number;
  readonly repairs: number;
  readonly summarizedToolResults: number;
  readonly flagged: readonly FlaggedText[];
  readonly analysis: AgentAnalysis | null;
  /** The model's final answer as parsed (model output: data, never instructions). */
  readonly finalAnswer: Proposal | null;
}

export type AgentPlanResult = PlanResult & { readonly agentTrace: AgentTrace };

/** The pipeline's trace of an agent run (stored on the incident and in the audit record). Pure. */
export function planTraceOf(t: AgentTrace): PlanTrace {
  return {
    planner: t.planner,
    modelId: t.planner === 'agent' ? t.models.draft : null,
    promptHashes: Object.values(t.promptHashes),
    tokens: { input: t.usage.input + t.usage.cacheRead + t.usage.cacheWrite, output: t.usage.output },
    toolCalls: t.toolCalls.map((c) => ({ tool: c.name, status: c.status })),
    fallbackReason: t.fallbackReason === null ? null : `${t.fallbackReason}${t.fallbackDetail ? `: ${t.fallbackDetail}` : ''}`,
    spend: { ...t.usage, guardrailUnits: t.guardrail.units, usd: t.usd },
    investigation: {
      sessionId: t.sessionId,
      models: t.models,
      calls: t.calls.map((c) => ({ step: c.step, model: c.model, purpose: c.purpose, ...c.usage, usd: c.usd, stopReason: c.stopReason, attempts: c.attempts })),
      toolCalls: t.toolCalls.map((c) => ({ step: c.step, name: c.name, args: c.args, status: c.status, resultChars: c.resultChars, capped: c.capped, flagged: c.flagged })),
      steps: t.steps,
      repairs: t.repairs,
      summarizedToolResults: t.summarizedToolResults,
      // Bounded: the record is stored on the incident and in the audit trail.
      flagged: t.flagged.slice(0, 20).map((f) => ({ tool: f.tool, excerpt: f.excerpt.slice(0, 300), rule: f.rule })),
      gaps: (t.analysis?.gaps ?? []).slice(0, 20).map((g) => ({ what: g.what, why: g.why, ...(g.detail ? { detail: g.detail.slice(0, 300) } : {}) })),
      finalAnswer: t.finalAnswer,
      ...(t.planner === 'agent' && t.analysis ? { analysis: planAnalysisOf(t.analysis) } : {}),
    },
  };
}

type Untraced = { readonly kind: 'drafted'; readonly runbook: Extract<PlanResult, { kind: 'drafted' }>['runbook']; readonly agentTrace: AgentTrace } | { readonly kind: 'none'; readonly reason: string; readonly agentTrace: AgentTrace };

export interface AgentPlannerDeps {
  readonly settings: AgentSettings;
  readonly policy: CompiledPolicy;
  readonly model: ModelPort;
  readonly store: Store;
  readonly clock: Clock;
  readonly metrics: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
  readonly templates: readonly RunbookTemplate[];
  /** Always available; drafts whenever the agent cannot. Default: the template planner over `templates`. */
  readonly fallback?: Planner;
  readonly promptDir?: string;
  readonly count?: TokenCounter;
  /** Backoff sleeps; wall time (a model's throttling is in real seconds even on the simulated clock). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly logger?: Logger;
}

const wallSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason as Error); };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** The Bedrock agent as a Planner: investigates, drafts, and falls back to the templates on any failure. */
export class AgentPlanner implements Planner {
  readonly kind = 'agent';
  private readonly prompts: { system: Prompt; repair: Prompt; finish: Prompt; triage: Prompt };
  private readonly breaker: SpendBreaker;
  private readonly fallback: Planner;
  private readonly policyContext: string;
  private readonly cacheMin: CacheMinLearner;

  constructor(private readonly deps: AgentPlannerDeps) {
    const dir = deps.promptDir ?? defaultPromptDir();
    this.prompts = { system: loadPrompt(dir, 'investigate'), repair: loadPrompt(dir, 'repair'), finish: loadPrompt(dir, 'finish'), triage: loadPrompt(dir, 'triage') };
    this.breaker = new SpendBreaker(deps.store, deps.settings);
    this.fallback = deps.fallback ?? new TemplatePlanner(deps.templates, deps.policy.doc.actions);
    this.policyContext = policyBriefing(deps.policy, deps.templates);
    this.cacheMin = new CacheMinLearner(deps.store);
  }

  async draft(incident: Incident, signal: AbortSignal): Promise<AgentPlanResult> {
    const sessionId = randomUUID();
    const s = this.deps.settings;
    const log = new RunLog();
    const budget = new IncidentBudget({ tokens: s.tokensPerIncident, usd: s.usdPerIncident }, s.prices);
    // The run's own deadline, and the caller's signal (shutdown, the cycle's deadline), whichever first.
    const runSignal = AbortSignal.any([signal, AbortSignal.timeout(s.deadlineMs)]);
    const toolCtx: ToolContext = { incident, policy: this.deps.policy, metrics: this.deps.metrics, logs: this.deps.logs, deployments: this.deps.deployments, store: this.deps.store, templates: this.deps.templates, signal: runSignal };
    const loopDeps: LoopDeps = {
      model: this.deps.model,
      settings: s,
      prompts: this.prompts,
      policyContext: this.policyContext,
      tools: INVESTIGATION_TOOLS,
      toolCtx,
      budget,
      breaker: this.breaker,
      clock: this.deps.clock,
      count: this.deps.count ?? estimateTokens,
      sleep: this.deps.sleep ?? wallSleep,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      signal: runSignal,
      cacheMin: this.cacheMin,
    };
    const trace = (over: Partial<AgentTrace>): AgentTrace => ({
      sessionId,
      planner: 'agent',
      fallbackReason: null,
      fallbackDetail: null,
      triage: null,
      models: { triage: s.triageModel, draft: s.draftModel },
      promptHashes: Object.fromEntries(Object.values(this.prompts).map((p) => [p.name, p.hash])),
      usage: budget.usage,
      usd: budget.usd,
      guardrail: budget.guardrail,
      usageByModel: budget.byModel(),
      calls: log.calls,
      toolCalls: log.toolCalls,
      steps: log.steps,
      repairs: log.repairs,
      summarizedToolResults: log.summarized,
      flagged: log.flagged,
      analysis: null,
      finalAnswer: null,
      ...over,
    });

    let triageInfo: AgentTrace['triage'] = null;
    try {
      if (!s.enabled) throw new AgentError('disabled', 'the agent is disabled in the policy (agent.enabled: false)');
      await this.cacheMin.load();
      const breaker = await this.breaker.state(this.deps.clock.now());
      if (breaker.open) throw new AgentError('breaker_open', breaker.reason);
      if (s.triageModel) {
        const applicable = await this.applicableTemplates(incident);
        const t = await triage(loopDeps, log, s.triageModel, this.prompts.triage, triageBriefing(toolCtx, applicable, s.redactPatterns), applicable);
        triageInfo = { investigate: t.investigate, templateId: t.investigate ? null : t.template.id, reason: t.reason };
        if (!t.investigate) {
          const r = await new TemplatePlanner([t.template], this.deps.policy.doc.actions).draft(incident);
          if (r.kind === 'drafted') return this.finish(incident, { ...r, agentTrace: trace({ planner: 'template', triage: triageInfo }) });
        }
      }
      const brief = briefing(toolCtx, s.redactPatterns);
      log.flagged.push(...brief.flags);
      const proposal = await investigate(loopDeps, brief.text, log);
      const outcome = buildDraft({ proposal, incident, policy: this.deps.policy, modelId: s.draftModel, sessionId, seenDeployments: log.seenDeployments, flagged: log.flagged, observedGaps: log.gaps });
      if (outcome.kind === 'no_allowed_step') throw Object.assign(new AgentError('no_allowed_step', outcome.reason), { analysis: outcome.analysis, proposal });
      const t = trace({ triage: triageInfo, analysis: outcome.analysis, finalAnswer: proposal });
      if (outcome.kind === 'no_safe_action') return this.finish(incident, { kind: 'none', reason: outcome.reason, agentTrace: t });
      return this.finish(incident, { kind: 'drafted', runbook: outcome.runbook, agentTrace: t });
    } catch (err) {
      const reason: FallbackReason = err instanceof AgentError ? err.reason : runSignal.aborted ? 'deadline' : 'model_error';
      const extra = err as { analysis?: AgentAnalysis; proposal?: Proposal };
      const t = trace({ planner: 'template', fallbackReason: reason, fallbackDetail: errorMessage(err).slice(0, 500), triage: triageInfo, analysis: extra.analysis ?? null, finalAnswer: extra.proposal ?? null });
      return this.finish(incident, await this.fallBack(incident, signal, t));
    }
  }

  /** The template planner's answer, labelled with why the agent did not draft. */
  private async fallBack(incident: Incident, signal: AbortSignal, t: AgentTrace): Promise<Untraced> {
    const note = `The agent could not draft this runbook (${t.fallbackReason ?? 'unknown'}: ${t.fallbackDetail ?? ''}); this is the template planner's proposal.`;
    const rejected = t.analysis?.rejectedSteps ?? [];
    const rejectedNote = rejected.length > 0 ? `\n\n**Rejected by policy** (the agent proposed these; they were dropped)\n${rejected.map((r) => `- ${r.action}: ${r.reason}`).join('\n')}` : '';
    const flaggedNote = t.flagged.length > 0 ? `\n\n**Text that tried to instruct the agent**\n${t.flagged.slice(0, 10).map((f) => `- from ${f.tool}: "${f.excerpt.replace(/\s+/g, ' ').slice(0, 200)}"`).join('\n')}` : '';
    const r = await this.fallback.draft(incident, signal);
    if (r.kind === 'none') return { kind: 'none', reason: `${r.reason} (the agent fell back: ${t.fallbackReason ?? 'unknown'})`, agentTrace: t };
    return { kind: 'drafted', runbook: { ...r.runbook, body: `> ${note}${rejectedNote}${flaggedNote}\n\n${r.runbook.body}` }, agentTrace: t };
  }

  /** Templates the template planner itself would instantiate for this incident (same rules, no copy of them). */
  private async applicableTemplates(incident: Incident): Promise<RunbookTemplate[]> {
    const out: RunbookTemplate[] = [];
    for (const t of this.deps.templates) {
      const r = await new TemplatePlanner([t], this.deps.policy.doc.actions).draft(incident);
      if (r.kind === 'drafted') out.push(t);
    }
    return out;
  }

  private finish(incident: Incident, r: Untraced): AgentPlanResult {
    const t = r.agentTrace;
    // One EMF line per run: tokens and dollars per incident become CloudWatch metrics from the logs.
    this.deps.logger?.info({ ...agentEmf(t, incident.id, incident.service, this.deps.clock.now()), steps: t.steps, flagged: t.flagged.length, fallbackDetail: t.fallbackDetail }, 'agent run finished');
    return { ...r, trace: planTraceOf(t) };
  }
}

/** The factory the composition root calls. */
export function createAgentPlanner(deps: AgentPlannerDeps): AgentPlanner {
  return new AgentPlanner(deps);
}
