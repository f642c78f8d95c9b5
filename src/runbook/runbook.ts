import { createHash } from 'node:crypto';
import type { ActionCall } from '../cloud/ports.js';

export type Risk = 'low' | 'medium' | 'high';
export const RISKS: readonly Risk[] = ['low', 'medium', 'high'];

/** What undoes a step when a later step of the run fails (src/execute/compensate.ts); approved with the runbook. */
export interface CompensatingStep extends ActionCall {
  readonly description: string;
}

export interface RunbookStep extends ActionCall {
  /** Plain words for the approver: what this step will do. */
  readonly description: string;
  readonly risk: Risk;
  /** Runs only if the run fails after this step acted, and only as approved: it is part of the runbook's hash. */
  readonly compensate?: CompensatingStep;
}

export interface VerifySpec {
  /** How long after the last step the service has to recover. */
  readonly withinMs: number;
  /** Consecutive healthy polls needed to call it recovered. */
  readonly healthyPolls: number;
}

/** A runbook drafted for one incident: concrete steps with concrete parameters. */
export interface DraftedRunbook {
  readonly templateId: string;
  readonly title: string;
  /** The highest risk of its steps; decides the quorum. */
  readonly risk: Risk;
  readonly steps: readonly RunbookStep[];
  readonly verify: VerifySpec;
  /** Markdown explanation shown to approvers (from the template, placeholders filled). */
  readonly body: string;
  /** Who drafted it: "template" or the model id. */
  readonly draftedBy: string;
  /** sha256 over the canonical JSON of what would run; every decision names it. */
  readonly hash: string;
  /** The incident's request version this runbook was proposed as (absent on the first): part of the hash, so a decision on one version never counts for another. */
  readonly revision?: number;
}

/** JSON with sorted keys, so equal content always hashes equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The content hash of what a runbook would do: steps (and their compensating steps), parameters, risk and verification. */
export function runbookHash(r: Omit<DraftedRunbook, 'hash'>): string {
  const content = {
    templateId: r.templateId,
    risk: r.risk,
    steps: r.steps.map((s) => ({ action: s.action, params: s.params, risk: s.risk, ...(s.compensate ? { compensate: { action: s.compensate.action, params: s.compensate.params } } : {}) })),
    verify: r.verify,
    ...(r.revision !== undefined ? { revision: r.revision } : {}),
  };
  return 'sha256:' + createHash('sha256').update(canonicalJson(content)).digest('hex');
}

export function maxRisk(risks: readonly Risk[]): Risk {
  return risks.reduce<Risk>((a, b) => (RISKS.indexOf(b) > RISKS.indexOf(a) ? b : a), 'low');
}
