import type { EpochMs } from '../core/time.js';
import type { DraftedRunbook } from '../runbook/runbook.js';
import { canonicalJson, runbookHash } from '../runbook/runbook.js';
import type { RedraftTrigger } from './lifecycle.js';

/**
 * The versions of an incident's runbook and requests: a re-draft or a re-proposal opens a new request;
 * the one it replaces is kept here with how it ended. Decisions name a runbook hash, and each version
 * has its own hash (`revision` is part of it), so a decision on an older version never counts.
 */

/** A step as approvers saw it, for diffs. */
export interface StepView {
  readonly action: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly description: string;
}

/** An approval request that is over, and how it ended. */
export interface PastRequest {
  /** 1 for the first request of the incident. */
  readonly version: number;
  readonly runbookHash: string;
  readonly title: string;
  readonly steps: readonly StepView[];
  readonly requestedAt: EpochMs;
  readonly endedAt: EpochMs;
  readonly outcome: 'superseded' | 'rejected' | 'expired';
  readonly why: string;
}

/** Set on an incident while a new version is drafted: why, and what it replaces. */
export interface RedraftRecord {
  /** Re-drafts of this incident so far, this one included. */
  readonly count: number;
  readonly trigger: RedraftTrigger;
  readonly previous: PastRequest;
}

/** The person an incident was handed to after a reject, an expiry or a hand-over. */
export interface Assignment {
  readonly to: string;
  readonly by: string;
  readonly at: EpochMs;
  readonly note: string;
}

export const stepViews = (rb: DraftedRunbook): StepView[] => rb.steps.map((s) => ({ action: s.action, params: s.params, description: s.description }));

/** The version number of the request that follows `past` (the incident's requests that are over). */
export const nextVersionNumber = (past: readonly PastRequest[] | undefined): number => (past?.length ?? 0) + 1;

const show = (s: StepView): string => `${s.action} ${canonicalJson(s.params)}`;

/**
 * What changed between two versions' steps, one line per change, in step order: `- step N: …`
 * removed, `+ step N: …` added, `~ step N: …` the same action with other parameters. Pure.
 */
export function diffSteps(before: readonly StepView[], after: readonly StepView[]): string[] {
  const out: string[] = [];
  const n = Math.max(before.length, after.length);
  for (let i = 0; i < n; i++) {
    const a = before[i];
    const b = after[i];
    if (a && b && show(a) === show(b)) continue;
    if (a && b && a.action === b.action) {
      const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort();
      const changed = keys.filter((k) => canonicalJson(a.params[k]) !== canonicalJson(b.params[k])).map((k) => `${k}: ${canonicalJson(a.params[k]) ?? '(none)'} → ${canonicalJson(b.params[k]) ?? '(none)'}`);
      out.push(`~ step ${i + 1}: ${a.action} ${changed.join(', ')}`);
      continue;
    }
    if (a) out.push(`- step ${i + 1}: ${show(a)}`);
    if (b) out.push(`+ step ${i + 1}: ${show(b)}`);
  }
  return out;
}

/** The diff as one paragraph for announcements ("steps unchanged" when there is none). */
export function describeDiff(before: readonly StepView[], after: readonly StepView[]): string {
  const d = diffSteps(before, after);
  return d.length === 0 ? 'steps unchanged' : d.join('; ');
}

/** The same runbook proposed as version `revision`: a new hash, the same steps. */
export function asRevision(rb: DraftedRunbook, revision: number): DraftedRunbook {
  const { hash: _old, ...content } = rb;
  return { ...content, revision, hash: runbookHash({ ...content, revision }) };
}

/** Whether two runbooks would do the same thing (what runs, whatever their version). */
export function sameSteps(a: DraftedRunbook, b: { readonly steps: readonly StepView[] }): boolean {
  return canonicalJson(stepViews(a).map(show)) === canonicalJson(b.steps.map(show));
}
