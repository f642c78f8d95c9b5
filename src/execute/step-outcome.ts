import { callResources, describeCall, parseCall } from '../actions/catalogue.js';
import type { ActionCall, ActionCheck, ActionResult, ActionTarget, Precondition, StepVerification } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';
import type { EpochMs } from '../core/time.js';
import { allCleared } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import type { Store } from '../store/store.js';

/**
 * What the step runner asks about one step besides authorize(): its preview, its preconditions, its outcome
 * when the call threw or the daemon died inside it, and the per-resource cooldown. Each answer is a value
 * with a reason, never a bare exception, so the runner records it and moves on.
 */

/** How a step ended when nobody can say from the call alone. */
export type Outcome =
  | { readonly kind: 'succeeded'; readonly summary: string; readonly result?: ActionResult }
  | { readonly kind: 'failed'; readonly summary: string }
  | { readonly kind: 'uncertain'; readonly summary: string };

/** The step's preview: from the cloud where the target can read it, else from its parameters. */
export async function previewStep(actions: ActionTarget, step: ActionCall, signal: AbortSignal): Promise<string> {
  if (!actions.preview) return describeCall(step);
  try {
    const p = await actions.preview(step, signal);
    return [p.summary, ...p.changes].join('; ');
  } catch (err) {
    return `${describeCall(step)} (preview unavailable: ${errorMessage(err)})`;
  }
}

/**
 * The precondition every runbook shares: the service is still unhealthy. Checked until the run's first step
 * has started; once a step acted, a recovering service is that step's doing and the run goes on. Pure.
 */
export function stillUnhealthy(inc: Incident): Precondition {
  if (inc.steps.length > 0 || !allCleared(inc)) return { ok: true };
  const at = Math.max(...inc.signals.map((s) => s.clearedAt ?? 0));
  return { ok: false, code: 'recovered', detail: `is not needed: ${inc.service} recovered by itself before any step ran (every signal cleared by ${new Date(at).toISOString()})` };
}

/** Preconditions, re-checked right before the call; one that cannot be read fails closed. */
export async function checkPreconditions(actions: ActionTarget, step: ActionCall, key: string, signal: AbortSignal): Promise<Precondition> {
  const parsed = parseCall(step);
  if (!parsed.ok) return { ok: false, code: 'invalid_params', detail: parsed.problems.map((p) => p.message).join('; ') };
  if (!actions.preconditions) return { ok: true };
  try {
    return await actions.preconditions(step, key, signal);
  } catch (err) {
    return { ok: false, code: 'target_changed', detail: `the preconditions could not be checked: ${errorMessage(err)}` };
  }
}

/** Whether the step is one a person performs (the runner hands it over instead of calling the cloud). */
export function isManual(step: ActionCall): boolean {
  const p = parseCall(step);
  return p.ok && p.entry.action.manual === true;
}

/** Asks the cloud whether the step happened; a failing check is an answer too: unknown. */
export async function askCloud(actions: ActionTarget, step: ActionCall, key: string, signal: AbortSignal, startedAt: EpochMs): Promise<ActionCheck> {
  try {
    return await actions.check(step, key, signal, { startedAt });
  } catch {
    return 'unknown';
  }
}

/**
 * Runs the call. An exception may come after the request reached the cloud (a timeout, a reset), so it is
 * checked against the cloud before the step is called failed: done or in progress = it landed.
 */
export async function runStep(actions: ActionTarget, step: ActionCall, key: string, signal: AbortSignal, startedAt: EpochMs): Promise<Outcome> {
  try {
    const res = await actions.execute(step, key, signal);
    return res.ok ? { kind: 'succeeded', summary: res.summary, result: res } : { kind: 'failed', summary: res.summary };
  } catch (err) {
    const error = errorMessage(err);
    // The run's own deadline may be what threw: the check gets a fresh one of its own.
    const seen = await askCloud(actions, step, key, AbortSignal.timeout(30_000), startedAt);
    if (seen === 'done' || seen === 'in_progress') return { kind: 'succeeded', summary: `the call reported "${error}", but the cloud shows it ${seen === 'done' ? 'done' : 'in progress'}` };
    if (seen === 'not_started') return { kind: 'failed', summary: `error: ${error} (the cloud shows it did not happen)` };
    return { kind: 'uncertain', summary: `error: ${error}; whether it happened cannot be told from the cloud` };
  }
}

/**
 * The action's own verify, right after its call returned ok: does the cloud show what the action promises?
 * A verify that cannot read the cloud fails closed: the run stops and a person looks.
 */
export async function verifyStep(actions: ActionTarget, step: ActionCall, key: string, signal: AbortSignal, startedAt: EpochMs, result: ActionResult): Promise<StepVerification> {
  if (!actions.verify) return { ok: true, detail: 'the target has no read-back; the call\'s answer stands' };
  try {
    return await actions.verify(step, key, signal, { startedAt, result });
  } catch (err) {
    return { ok: false, detail: `the step could not be verified: ${errorMessage(err)}` };
  }
}

/** What a step found started after a restart becomes: only "done" is settled without a person. */
export function recoveredOutcome(seen: ActionCheck): Outcome {
  if (seen === 'done') return { kind: 'succeeded', summary: 'found already done in the cloud after a restart' };
  if (seen === 'not_started') return { kind: 'uncertain', summary: 'interrupted before the cloud saw it; not re-run without a person' };
  if (seen === 'in_progress') return { kind: 'uncertain', summary: 'interrupted; the cloud shows it still in progress' };
  return { kind: 'uncertain', summary: 'interrupted; the cloud cannot tell whether it happened' };
}

const cooldownKey = (resource: string): string => `cooldown:${resource}`;

/** A cooldown mark: when a step acted on the resource, and for which incident (a bare number: marks stored before that). */
type Mark = number | { readonly at: number; readonly incidentId: string };

/**
 * The newest earlier action on any resource the step touches, across incidents. The cooldown is across
 * incidents: a mark `ownIncident`'s own run made (step 2 on the stage step 1 froze) does not hold it back.
 */
export async function lastActionOn(store: Store, step: ActionCall, ownIncident?: string): Promise<{ resource: string; lastAt: EpochMs } | null> {
  const resources = callResources(step);
  const values = await store.getValues<Mark>(resources.map(cooldownKey));
  let best: { resource: string; lastAt: EpochMs } | null = null;
  for (const r of resources) {
    const mark = values.get(cooldownKey(r));
    if (mark === undefined || (typeof mark === 'object' && mark.incidentId === ownIncident)) continue;
    const at = typeof mark === 'number' ? mark : mark.at;
    if (typeof at === 'number' && (best === null || at > best.lastAt)) best = { resource: r, lastAt: at as EpochMs };
  }
  return best;
}

/** Records that the step acts on its resources now (written with the step's start, before the call). */
export async function markResources(store: Store, step: ActionCall, at: EpochMs, incidentId = ''): Promise<void> {
  const resources = callResources(step);
  if (resources.length > 0) await store.setValues(Object.fromEntries(resources.map((r) => [cooldownKey(r), { at, incidentId }])));
}
