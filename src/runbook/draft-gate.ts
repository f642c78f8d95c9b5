import { catalogueEntry, checkParam, paramNames, parseCall } from '../actions/catalogue.js';
import { boundViolation } from '../execute/action-policy.js';
import type { CompiledParamRule, CompiledPolicy, ParamValue } from '../policy/compile.js';
import { maxRisk, runbookHash, RISKS, type DraftedRunbook } from './runbook.js';
import type { RunbookTemplate } from './template.js';

/**
 * The draft gate: a pure check run on every drafted runbook before anybody is asked to approve it,
 * and by `cloudops validate` on every template. It answers "could this run, as written, under this
 * policy?" so that a runbook that would stop at step 1 with "parameter is required" never reaches a
 * person. `authorize()` keeps its own check at execution time; this one does not replace it.
 */

/** One reason a runbook cannot run. `step` is the 0-based step index, null for the runbook as a whole. */
export interface DraftProblem {
  readonly step: number | null;
  readonly code: string;
  readonly message: string;
  /** The parameter at fault, when there is one (locates the problem in a template file). */
  readonly param?: string;
}

/** What the gate reads: a drafted runbook (hash and risk checked) or a template (`template: true`). */
export type Runbook = DraftedRunbook | RunbookTemplate;

/** More steps than any runbook should need; a draft with more is refused rather than paged through. */
export const MAX_STEPS = 20;
/** Longest parameter value accepted when the policy gives no pattern or enum to bound it. */
export const MAX_PARAM_LENGTH = 1024;

const PLACEHOLDER = /\{\{[^}]*\}\}/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const isDrafted = (r: Runbook): r is DraftedRunbook => 'hash' in r;

/** Every reason `runbook` cannot run under `policy`; an empty array means it passes. */
export function checkDraft(policy: CompiledPolicy, runbook: Runbook, opts: { readonly template?: boolean } = {}): readonly DraftProblem[] {
  const template = opts.template === true;
  const problems: DraftProblem[] = [];
  const steps = runbook.steps;
  if (steps.length === 0) problems.push({ step: null, code: 'no_steps', message: 'the runbook has no steps' });
  if (steps.length > MAX_STEPS) problems.push({ step: null, code: 'too_many_steps', message: `the runbook has ${steps.length} steps (at most ${MAX_STEPS})` });

  steps.forEach((s, step) => {
    const own = checkCall(policy, s, step, template, '');
    problems.push(...own);
    // A drafted step states its own risk; it may not be lower than the policy's, or the quorum would be too.
    const rule = policy.actions.get(s.action);
    if (rule && 'risk' in s && RISKS.indexOf(s.risk) < RISKS.indexOf(rule.risk)) {
      problems.push({ step, code: 'risk_understated', message: `step risk "${s.risk}" is lower than ${s.action}'s risk "${rule.risk}" in the policy` });
    }
    // What undoes the step is approved with it, so it passes the same gate before anyone is asked.
    if (s.compensate) problems.push(...checkCall(policy, s.compensate, step, template, 'compensating step: '));
  });

  if (isDrafted(runbook)) {
    // Unknown actions are reported above; the runbook's risk is judged over the known ones.
    const stepsRisk = maxRisk(runbook.steps.flatMap((s) => [s, ...(s.compensate ? [s.compensate] : [])]).flatMap((c) => policy.actions.get(c.action)?.risk ?? []));
    if (RISKS.indexOf(runbook.risk) < RISKS.indexOf(stepsRisk)) {
      problems.push({ step: null, code: 'risk_understated', message: `runbook risk "${runbook.risk}" is lower than its highest step risk "${stepsRisk}"` });
    }
    const { hash, ...content } = runbook;
    const recomputed = runbookHash(content);
    if (hash !== recomputed) problems.push({ step: null, code: 'hash_mismatch', message: `the runbook's hash ${hash} is not the hash of its content (${recomputed})` });
  }
  return problems;
}

function checkValue(action: string, param: string, value: ParamValue, rule: CompiledParamRule, step: number, template: boolean): DraftProblem[] {
  const shown = JSON.stringify(value);
  if (typeof value === 'string' && PLACEHOLDER.test(value)) {
    // A template's placeholder is filled per incident: only its presence can be checked here.
    if (template) return [];
    return [{ step, param, code: 'placeholder_unfilled', message: `parameter ${param}=${shown} still holds a placeholder` }];
  }
  if (typeof value === 'string' && CONTROL.test(value)) {
    return [{ step, param, code: 'param_control_chars', message: `parameter "${param}" of ${action} contains control characters` }];
  }
  if (typeof value === 'string' && value.length > MAX_PARAM_LENGTH) {
    return [{ step, param, code: 'param_too_long', message: `parameter "${param}" of ${action} is ${value.length} characters long (at most ${MAX_PARAM_LENGTH})` }];
  }
  if (rule.enum && !rule.enum.includes(value)) {
    return [{ step, param, code: 'param_not_in_enum', message: `parameter ${param}=${shown} is not one of ${JSON.stringify(rule.enum)}` }];
  }
  if (rule.pattern && !rule.pattern.test(String(value))) {
    return [{ step, param, code: 'param_pattern', message: `parameter ${param}=${shown} does not match /${rule.patternSource ?? ''}/` }];
  }
  const bound = boundViolation(param, value, rule.min, rule.max);
  if (bound) return [{ step, param, code: 'param_out_of_bounds', message: bound }];
  return [];
}

/**
 * The catalogue's schema (types, absolute bounds, combinations). A template's placeholders are filled per
 * incident, so a template is checked value by value, skipping placeholders; a drafted step as a whole.
 */
function catalogueProblems(action: string, params: Readonly<Record<string, ParamValue>>, step: number, template: boolean): DraftProblem[] {
  const problems: DraftProblem[] = [];
  const hasPlaceholder = Object.values(params).some((v) => typeof v === 'string' && PLACEHOLDER.test(v));
  if (template || hasPlaceholder) {
    for (const [param, value] of Object.entries(params)) {
      if (typeof value === 'string' && PLACEHOLDER.test(value)) continue;
      const p = checkParam(action, param, value);
      if (p && paramNames(action).includes(param)) problems.push({ step, param, code: 'param_invalid', message: p.message });
    }
    return problems;
  }
  const parsed = parseCall({ action, params });
  if (!parsed.ok) {
    // Names the policy already refused are reported once, by the allow-list check.
    for (const p of parsed.problems) if (p.param === undefined || paramNames(action).includes(p.param)) problems.push({ step, ...(p.param !== undefined ? { param: p.param } : {}), code: 'param_invalid', message: p.message });
  }
  return problems;
}

/** The allow-list, catalogue and parameter problems of one call (a step, or the step's compensation). */
function checkCall(policy: CompiledPolicy, s: { readonly action: string; readonly params: Readonly<Record<string, ParamValue>> }, step: number, template: boolean, prefix: string): DraftProblem[] {
  const problems: DraftProblem[] = [];
  const rule = policy.actions.get(s.action);
  if (!rule) return [{ step, code: 'action_not_allowed', message: `${prefix}action "${s.action}" is not allow-listed in the policy` }];
  if (!catalogueEntry(s.action)) return [{ step, code: 'action_unknown', message: `${prefix}action "${s.action}" is not in the action catalogue` }];
  for (const [param, value] of Object.entries(s.params)) {
    if (!rule.params.has(param)) problems.push({ step, param, code: 'param_not_allowed', message: `${prefix}parameter "${param}" is not allowed for ${s.action}` });
    else problems.push(...checkValue(s.action, param, value, rule.params.get(param)!, step, template).map((p) => ({ ...p, message: prefix + p.message })));
  }
  for (const [param, p] of rule.params) {
    if (p.required && s.params[param] === undefined) problems.push({ step, param, code: 'param_missing', message: `${prefix}parameter "${param}" is required for ${s.action}` });
  }
  // The catalogue's own checks, for the parameters the policy's rules did not already fault.
  const faulted = new Set(problems.map((p) => p.param));
  problems.push(...catalogueProblems(s.action, s.params as Record<string, ParamValue>, step, template).filter((p) => !faulted.has(p.param)).map((p) => ({ ...p, message: prefix + p.message })));
  return problems;
}

/** The problems in plain words for an incident's reason: "step 1: …" counts steps from 1, as people do. */
export function describeDraftProblems(problems: readonly DraftProblem[]): string {
  return problems.map((p) => (p.step === null ? p.message : `step ${p.step + 1}: ${p.message}`)).join('; ');
}
