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
