import type { z } from 'zod';
import type { ActionCall } from '../cloud/ports.js';
import type { Action } from './action.js';
import { codepipelineDisableTransition } from './codepipeline-disable-transition.js';
import { codepipelineEnableTransition } from './codepipeline-enable-transition.js';
import { codepipelineRollbackStage } from './codepipeline-rollback-stage.js';
import { codepipelineStopExecution } from './codepipeline-stop-execution.js';
import { ecsRollbackService } from './ecs-rollback-service.js';
import { ecsUpdateService } from './ecs-update-service.js';
import { lambdaUpdateAlias } from './lambda-update-alias.js';
import { manual } from './manual.js';
import { snsNotify } from './sns-notify.js';
import { ssmStartAutomation } from './ssm-start-automation.js';

/**
 * The action catalogue: the one list of what the daemon can do. The policy cross-check, the draft gate,
 * the page (preview text), the AWS target, the simulated cloud and iam-policy.json read it.
 */

type Value = string | number | boolean;

/** One name a runbook step may use: an action, and parameters the name fixes (the older names' meaning). */
export interface CatalogueEntry {
  readonly name: string;
  readonly action: Action;
  /** Parameters implied by the name (`ecs.forceNewDeployment` = ecs.updateService with forceNewDeployment: true). */
  readonly fixed: Readonly<Record<string, Value>>;
  /** For an older name: the action it stands for. */
  readonly aliasOf: string | null;
}

export const ACTIONS: readonly Action[] = [
  codepipelineRollbackStage,
  codepipelineStopExecution,
  codepipelineDisableTransition,
  codepipelineEnableTransition,
  ecsUpdateService,
  ecsRollbackService,
  lambdaUpdateAlias,
  ssmStartAutomation,
  snsNotify,
  manual,
];

const entry = (action: Action, name = action.name, fixed: Record<string, Value> = {}): CatalogueEntry => ({ name, action, fixed, aliasOf: name === action.name ? null : action.name });

const ENTRIES: ReadonlyMap<string, CatalogueEntry> = new Map(
  [
    ...ACTIONS.map((a) => entry(a)),
    // Older names, kept so existing policies and runbooks go on working.
    entry(codepipelineRollbackStage, 'codepipeline.rollback'),
    entry(ecsUpdateService, 'ecs.forceNewDeployment', { forceNewDeployment: true }),
    entry(ecsUpdateService, 'ecs.scaleService'),
  ].map((e) => [e.name, e]),
);

/** Every name a step may use, sorted. */
export const ACTION_NAMES: readonly string[] = [...ENTRIES.keys()].sort();

/** The catalogue entry for a step's action name, or undefined. */
export function catalogueEntry(name: string): CatalogueEntry | undefined {
  return ENTRIES.get(name);
}

/** The parameter names a catalogue name takes (those its name fixes excluded). */
export function paramNames(name: string): readonly string[] {
  const e = ENTRIES.get(name);
  if (!e) return [];
  const shape = (e.action.schema as unknown as Partial<z.ZodObject>).shape ?? {};
  return Object.keys(shape).filter((k) => !(k in e.fixed));
}

/** One reason a step's parameters do not fit the catalogue's schema. */
export interface ParamProblem {
  readonly param?: string;
  readonly message: string;
}

export type Parsed = { readonly ok: true; readonly entry: CatalogueEntry; readonly params: unknown } | { readonly ok: false; readonly problems: readonly ParamProblem[] };

const issueProblems = (issues: readonly z.core.$ZodIssue[]): ParamProblem[] =>
  issues.map((i) => {
    const param = typeof i.path[0] === 'string' ? i.path[0] : i.code === 'unrecognized_keys' ? i.keys[0] : undefined;
    return param !== undefined ? { param, message: `parameter "${param}": ${i.message}` } : { message: i.message };
  });

/** Parses a step's parameters with its action's schema (the name's fixed parameters merged in first). */
export function parseCall(call: ActionCall): Parsed {
  const e = ENTRIES.get(call.action);
  if (!e) return { ok: false, problems: [{ message: `action "${call.action}" is not in the catalogue (known: ${ACTION_NAMES.join(', ')})` }] };
  for (const k of Object.keys(call.params)) {
    if (k in e.fixed) return { ok: false, problems: [{ param: k, message: `parameter "${k}" is implied by ${call.action} and may not be given` }] };
  }
  const r = e.action.schema.safeParse({ ...call.params, ...e.fixed });
  return r.success ? { ok: true, entry: e, params: r.data } : { ok: false, problems: issueProblems(r.error.issues) };
}

/** Checks one parameter value alone (a template's other values may still be placeholders). */
export function checkParam(name: string, param: string, value: Value): ParamProblem | null {
  const e = ENTRIES.get(name);
  const field = (e?.action.schema as unknown as Partial<z.ZodObject> | undefined)?.shape?.[param] as z.ZodType | undefined;
  if (!field) return { param, message: `parameter "${param}" is not a parameter of ${name}` };
  const r = field.safeParse(value);
  return r.success ? null : { param, message: `parameter "${param}": ${r.error.issues[0]?.message ?? 'invalid'}` };
}

/** What the step will do, from its parameters alone (for the page and the approval request before a cloud read). */
export function describeCall(call: ActionCall): string {
  const p = parseCall(call);
  return p.ok ? p.entry.action.describe(p.params) : `${call.action} (${p.problems.map((x) => x.message).join('; ')})`;
}

/** Cooldown keys of a step ("ecs:prod/api"); a step whose parameters do not parse touches its action name. */
export function callResources(call: ActionCall): readonly string[] {
  const p = parseCall(call);
  return p.ok ? p.entry.action.resources(p.params) : [call.action];
}
