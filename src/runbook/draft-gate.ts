import { actionViolation } from '../execute/action-policy.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { runbookHash, type DraftedRunbook } from './runbook.js';

/** A drafted runbook, as the gate sees it. */
export type Runbook = DraftedRunbook;

/** One reason a drafted runbook cannot run: which step (null: the runbook as a whole), a stable code, plain words. */
export interface DraftProblem {
  readonly step: number | null;
  readonly code: string;
  readonly message: string;
}

const PLACEHOLDER = /\{\{[^}]*\}\}/;

/**
 * Whether a drafted runbook could run at all under the policy, before anyone is asked to approve it:
 * at least one step, every step's action allow-listed with its required parameters present and within
 * the policy's bounds, and the hash recomputed from the content. Empty = it passes. Pure.
 * With `template`, a parameter still holding a {{placeholder}} is checked for presence, not value.
 */
export function checkDraft(policy: CompiledPolicy, runbook: Runbook, opts: { template?: boolean } = {}): readonly DraftProblem[] {
  const problems: DraftProblem[] = [];
  if (runbook.steps.length === 0) problems.push({ step: null, code: 'no_steps', message: 'the runbook has no steps' });
  runbook.steps.forEach((s, i) => {
    const rule = policy.doc.actions[s.action];
    if (!rule) {
      problems.push({ step: i + 1, code: 'action_not_allowed', message: `action "${s.action}" is not allow-listed` });
      return;
    }
    // A template's {{placeholder}} is filled per incident: present, but its value is not known yet.
    const held = new Set(opts.template ? Object.keys(s.params).filter((k) => PLACEHOLDER.test(String(s.params[k]))) : []);
    const concrete = Object.fromEntries(Object.entries(s.params).filter(([k]) => !held.has(k)));
    const missing = Object.entries(rule.params).find(([k, p]) => p.required && s.params[k] === undefined);
    if (missing) {
      problems.push({ step: i + 1, code: 'param_missing', message: `parameter "${missing[0]}" is required for ${s.action}` });
      return;
    }
    const unknown = Object.keys(s.params).find((k) => !(k in rule.params));
    const why = unknown !== undefined ? `parameter "${unknown}" is not allowed for ${s.action}` : actionViolation({ [s.action]: { ...rule, params: Object.fromEntries(Object.entries(rule.params).filter(([k]) => !held.has(k))) } }, { action: s.action, params: concrete });
    if (why) problems.push({ step: i + 1, code: 'param_invalid', message: why });
  });
  if (!opts.template && runbookHash(runbook) !== runbook.hash) problems.push({ step: null, code: 'hash_mismatch', message: 'the runbook hash does not match its content' });
  return problems;
}

/** The problems in one line, e.g. `step 1: parameter "cluster" is required for ecs.forceNewDeployment`. */
export function describeDraftProblems(problems: readonly DraftProblem[]): string {
  return problems.map((p) => (p.step === null ? p.message : `step ${p.step}: ${p.message}`)).join('; ');
}
