import type { Incident, StepRecord } from '../incident/incident.js';
import { announce } from '../pipeline/announce.js';
import type { CycleContext, PipelineDeps } from '../pipeline/context.js';
import { moveIncident, saveIncident } from '../pipeline/transitions.js';
import { claimStep, authorizeStep, finishStep } from './step-gate.js';
import { askCloud, checkPreconditions, isManual, previewStep, runStep } from './step-outcome.js';

/**
 * A failed run (issue 12 item 2): the steps that acted are undone by their compensating steps, newest first,
 * and then the run ends failed → needs_human with notice. Only a compensating step the approved runbook names
 * runs (authorize() checks it against the approved hash); the runner never makes one up. Each is claimed in
 * the store like any step, so a restart inside one asks the cloud instead of running it again.
 */

/** The step record of step `index`'s compensating step: indices after the runbook's own steps. */
export const compensationIndex = (inc: Incident, index: number): number => (inc.runbook?.steps.length ?? 0) + index;

const compensationKey = (inc: Incident, index: number): string => `${inc.id}/${(inc.runbook?.hash ?? '').slice(7, 23)}/undo-${index + 1}`;

const LANDED: ReadonlySet<StepRecord['status']> = new Set(['succeeded', 'skipped_already_done']);

/**
 * Ends the run after step `failed` failed: compensates what acted (`failedLanded`: the failed step's own call
 * reached the cloud, as when its verify failed), then failed → needs_human. Returns the stored incident.
 */
export async function failRun(deps: PipelineDeps, ctx: CycleContext, claimed: Incident, failed: number, why: string, opts: { readonly failedLanded?: boolean } = {}): Promise<Incident> {
  let inc = claimed;
  const rb = inc.runbook;
  const acted = (rb?.steps ?? [])
    .map((_s, i) => i)
    .filter((i) => (i === failed ? opts.failedLanded === true || inc.steps.some((s) => s.index === compensationIndex(inc, i)) : i < failed && inc.steps.some((s) => s.index === i && LANDED.has(s.status))));
  const undone: string[] = [];
  let stopped: string | null = null;
  for (const i of acted.reverse()) {
    if (!rb?.steps[i]?.compensate) continue;
    const r = await compensateOne(deps, ctx, inc, i);
    inc = r.inc;
    if (r.stopped !== null) {
      stopped = r.stopped;
      break;
    }
    undone.push(`step ${i + 1}`);
  }
  const end = deps.clock.now();
  const tail = stopped !== null ? `; compensation stopped: ${stopped}` : undone.length > 0 ? `; compensated ${undone.join(', ')}` : '';
  inc = await moveIncident(deps.store, inc, 'failed', end, 'executor', `step ${failed + 1} failed: ${why}${tail}`);
  inc = await moveIncident(deps.store, inc, 'needs_human', end, 'executor', `step ${failed + 1} failed: ${why}${tail}; a person must take over`);
  await announce(deps, ctx, inc, 'final', `failed at step ${failed + 1}${stopped !== null ? ' (compensation stopped)' : undone.length > 0 ? ` (compensated ${undone.join(', ')})` : ''}`);
  return inc;
}

/** Runs step `i`'s compensating step once; `stopped` says why the remaining compensations do not run. */
async function compensateOne(deps: PipelineDeps, ctx: CycleContext, claimed: Incident, i: number): Promise<{ inc: Incident; stopped: string | null }> {
  let inc = claimed;
  const { store } = deps;
  const call = inc.runbook!.steps[i]!.compensate!;
  const index = compensationIndex(inc, i);
  const key = compensationKey(inc, i);
  const data = { step: index + 1, compensates: i + 1, action: call.action, params: call.params, key };
  const prior = inc.steps.find((s) => s.index === index);
  const now = deps.clock.now();
  if (prior && LANDED.has(prior.status)) return { inc, stopped: null };
  if (prior?.status === 'started') {
    // The daemon stopped inside this compensation: the cloud says whether it happened; it is never re-run blindly.
    const seen = await askCloud(deps.actions, call, key, ctx.signal, prior.startedAt);
    const done = seen === 'done';
    inc = await saveIncident(store, inc, now, 'executor', 'step.recovered', (n) => finishStep(n, index, done ? 'skipped_already_done' : 'handed_to_human', now, done ? 'compensation found already done in the cloud after a restart' : `compensation interrupted; the cloud shows it ${seen}`), { ...data, seen });
    return { inc, stopped: done ? null : `the compensation of step ${i + 1} was interrupted and its outcome is ${seen}` };
  }
  if (prior) return { inc, stopped: `the compensation of step ${i + 1} ended ${prior.status}` };

  const verdict = await authorizeStep(deps, ctx, inc, i, now, { compensating: true });
  if (!verdict.allowed) {
    await store.appendAudit({ at: now, incidentId: inc.id, kind: 'authorize.denied', actor: 'executor', data: { ...data, reason: verdict.reason, detail: verdict.detail } });
    return { inc, stopped: `the compensation of step ${i + 1} was not run: ${verdict.detail}` };
  }
  const pre = await checkPreconditions(deps.actions, call, key, ctx.signal);
  if (!pre.ok) {
    await store.appendAudit({ at: now, incidentId: inc.id, kind: 'precondition.failed', actor: 'executor', data: { ...data, code: pre.code, detail: pre.detail } });
    return { inc, stopped: `the compensation of step ${i + 1} was not run: ${pre.detail}` };
  }
  if (deps.policy.doc.execution.mode !== 'live' || isManual(call)) {
    const preview = await previewStep(deps.actions, call, ctx.signal);
    const rec: StepRecord = { index, action: call.action, idempotencyKey: key, status: 'handed_to_human', startedAt: now, endedAt: now, summary: preview };
    inc = await saveIncident(store, inc, now, 'executor', 'step.handed_to_human', (n) => {
      n.steps = [...n.steps.filter((s) => s.index !== index), rec];
    }, data);
    return { inc, stopped: `the compensation of step ${i + 1} is for a person: ${preview}` };
  }
  const record: StepRecord = { index, action: call.action, idempotencyKey: key, status: 'started', startedAt: now, endedAt: null, summary: '' };
  const claim = await claimStep(deps, ctx, inc, call, record, now, { ...data, approvedBy: verdict.approvedBy });
  if (!claim.claimed) {
    if (claim.budgetSpent !== null) await store.appendAudit({ at: now, incidentId: inc.id, kind: 'authorize.denied', actor: 'executor', data: { ...data, reason: 'budget_spent', detail: claim.budgetSpent } });
    return { inc, stopped: `the compensation of step ${i + 1} was not started: ${claim.budgetSpent ?? 'this process is no longer the leader'}` };
  }
  inc = claim.inc;
  const outcome = await runStep(deps.actions, call, key, ctx.signal, now);
  const end = deps.clock.now();
  const status = outcome.kind === 'succeeded' ? 'succeeded' : outcome.kind === 'failed' ? 'failed' : 'handed_to_human';
  inc = await saveIncident(store, inc, end, 'executor', 'step.finished', (n) => finishStep(n, index, status, end, outcome.summary), { ...data, ok: status === 'succeeded', summary: outcome.summary });
  return { inc, stopped: status === 'succeeded' ? null : `the compensation of step ${i + 1} ${status === 'failed' ? 'failed' : 'has an unknown outcome'}: ${outcome.summary}` };
}
