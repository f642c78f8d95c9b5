import type { Incident } from '../incident/incident.js';
import type { DraftedRunbook } from './runbook.js';

/**
 * What a planner did to reach its answer, kept on the incident and in the audit record: which planner,
 * which model (if any), the prompts by hash, the tokens spent, the tools it called, and why a fallback
 * planner drafted instead of the first one.
 */
export interface PlanTrace {
  /** "template", "agent", … */
  readonly planner: string;
  readonly modelId: string | null;
  /** sha256 of each prompt sent, in order (the prompts themselves are not stored). */
  readonly promptHashes: readonly string[];
  readonly tokens: { readonly input: number; readonly output: number } | null;
  readonly toolCalls: readonly { readonly tool: string; readonly status: 'success' | 'error' | 'no_data' }[];
  /** Set when this plan came from a fallback planner: why the first one did not draft. */
  readonly fallbackReason: string | null;
  /** What a model-backed planner spent on this plan, in full (absent for planners that call no model). */
  readonly spend?: PlanSpend;
  /** The investigation as the audit record keeps it (agent runs only; `show ID --record` prints it). */
  readonly investigation?: PlanInvestigation;
}

/**
 * One agent run for the auditor: session, models, every model call with its tokens, every tool call
 * with its (redacted) arguments and result size, what was flagged or could not be checked, and the
 * model's final answer as parsed (model output: data, never instructions).
 */
export interface PlanInvestigation {
  readonly sessionId: string;
  readonly models: { readonly triage: string | null; readonly draft: string };
  readonly calls: readonly { readonly step: number; readonly model: string; readonly purpose: string; readonly input: number; readonly output: number; readonly cacheRead: number; readonly cacheWrite: number; readonly usd: number; readonly stopReason: string; readonly attempts: number }[];
  readonly toolCalls: readonly { readonly step: number; readonly name: string; readonly args: string; readonly status: string; readonly resultChars: number; readonly capped: boolean; readonly flagged: number }[];
  readonly steps: number;
  readonly repairs: number;
  readonly summarizedToolResults: number;
  readonly flagged: readonly { readonly tool: string; readonly excerpt: string; readonly rule: string }[];
  readonly gaps: readonly { readonly what: string; readonly why: string; readonly detail?: string | undefined }[];
  readonly finalAnswer: unknown;
  /** What approvers are shown beside the runbook in Slack and email (absent when the agent drafted nothing). */
  readonly analysis?: PlanAnalysis;
}

/** The agent's case for its runbook, bounded: hypothesis, the evidence each step rests on with its console link. */
export interface PlanAnalysis {
  readonly hypothesis: string;
  readonly confidence: number;
  readonly evidence: readonly PlanEvidence[];
  readonly verification: string | null;
}

export interface PlanEvidence {
  /** 1-based runbook step the evidence supports. */
  readonly step: number;
  readonly kind: 'metric' | 'log' | 'deployment';
  readonly label: string;
  readonly observation: string;
  /** A CloudWatch / Logs Insights / CodePipeline console link built by the watcher, never by the model. */
  readonly link: string | null;
  readonly verified: boolean;
}

/** Tokens by kind, guardrail text units, and dollars at the policy's prices, for one plan. */
export interface PlanSpend {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly guardrailUnits: number;
  readonly usd: number;
}

export type PlanResult =
  | { readonly kind: 'drafted'; readonly runbook: DraftedRunbook; readonly trace: PlanTrace }
  | { readonly kind: 'none'; readonly reason: string; readonly trace: PlanTrace };

/**
 * Drafts a runbook for an incident. The template planner implements it; the Bedrock agent will too.
 * `signal` aborts at the drafting deadline or at shutdown: a planner must stop its I/O when it fires.
 * A planner only proposes: it never approves or executes.
 */
export interface Planner {
  /** Names the planner in traces ("template", "agent"). */
  readonly kind: string;
  draft(incident: Incident, signal: AbortSignal): Promise<PlanResult>;
}

/** A trace for a planner that calls no model (the template planner). */
export function plainTrace(planner: string, fallbackReason: string | null = null): PlanTrace {
  return { planner, modelId: null, promptHashes: [], tokens: null, toolCalls: [], fallbackReason };
}

/** The same result, marked as drafted by a fallback planner because of `reason`. */
export function asFallback(result: PlanResult, reason: string): PlanResult {
  return { ...result, trace: { ...result.trace, fallbackReason: reason } };
}
