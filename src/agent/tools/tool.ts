import type { z } from 'zod';
import type { DeploymentSource, LogSource, MetricSource } from '../../cloud/ports.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import type { Incident } from '../../incident/incident.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { RunbookTemplate } from '../../runbook/template.js';
import type { Store } from '../../store/store.js';

/**
 * What every agent tool answers: a status envelope, never an exception into the loop. Errors say
 * enough for the model to correct itself (which ids exist, what range is allowed).
 */
export type ToolEnvelope =
  | { readonly status: 'success'; readonly data: unknown; readonly note?: string; readonly refs?: readonly string[] }
  | { readonly status: 'no_data'; readonly message: string }
  | { readonly status: 'error'; readonly kind: ToolErrorKind; readonly message: string };

export type ToolErrorKind = 'invalid_input' | 'not_allowed' | 'tool_error' | 'missing_permission' | 'too_large' | 'unknown_tool';

/** What tools may read: the incident, the policy and the read-only ports. Nothing here can write or act. */
export interface ToolContext {
  readonly incident: Incident;
  readonly policy: CompiledPolicy;
  readonly metrics: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
  readonly store: Pick<Store, 'listIncidents'>;
  readonly templates: readonly RunbookTemplate[];
  readonly signal: AbortSignal;
}

export interface AgentTool<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly input: S;
  /** Operator-written directions (runbook templates): fenced as directions, not results; redacted and neutralized like any tool output. */
  readonly directions?: true;
  run(input: z.output<S>, ctx: ToolContext): Promise<ToolEnvelope>;
}

/** `refs`: ids the result showed the model (deployments), so evidence citing them counts as verified. */
export const success = (data: unknown, note?: string, refs?: readonly string[]): ToolEnvelope => ({ status: 'success', data, ...(note ? { note } : {}), ...(refs ? { refs } : {}) });
export const noData = (message: string): ToolEnvelope => ({ status: 'no_data', message });
export const toolError = (kind: ToolErrorKind, message: string): ToolEnvelope => ({ status: 'error', kind, message });

/** A port failure as the model should see it: a missing permission is named as such (an investigation gap). */
export function portFailure(what: string, err: unknown): ToolEnvelope {
  const msg = errorMessage(err);
  if (/AccessDenied|not authorized|UnauthorizedOperation|Forbidden/i.test(msg)) return toolError('missing_permission', `${what}: permission missing (${msg.slice(0, 300)})`);
  return toolError('tool_error', `${what} failed${isRetryable(err) ? ' (transient; you may retry once)' : ''}: ${msg.slice(0, 300)}`);
}

/** The services an incident may look at: its own and those it depends on. */
export function servicesInScope(ctx: ToolContext): string[] {
  const own = ctx.incident.service;
  return [own, ...(ctx.policy.doc.services[own]?.dependsOn ?? [])];
}
