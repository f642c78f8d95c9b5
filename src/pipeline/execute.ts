import { addMs } from '../core/time.js';
import { failRun } from '../execute/compensate.js';
import { authorizeStep, claimStep, finishStep } from '../execute/step-gate.js';
import { manualStepTimeout } from '../execute/manual-step.js';
import { askCloud, checkPreconditions, isManual, stillUnhealthy, previewStep, recoveredOutcome, runStep, verifyStep } from '../execute/step-outcome.js';
import type { Incident, StepRecord } from '../incident/incident.js';
import { announce } from './announce.js';
import { admit, type CycleContext, type PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';

/** Wall-clock bound on reading one step back from the cloud after its call (verify); its own, not the stage's. */
export const STEP_VERIFY_MS = 20_000;

export const idempotencyKey = (inc: Incident, index: number): string => `${inc.id}/${(inc.runbook?.hash ?? '').slice(7, 23)}/step-${index + 1}`;

/**
 * Runs an approved runbook step by step. Claiming the incident (approved → executing) is a conditional
 * write, so only one runner wins. Every step passes `authorize()` and is recorded as started before it
 * runs; a step found started after a crash is checked against the cloud, never re-run blindly.
 */
export async function executeOne(deps: PipelineDeps, ctx: CycleContext, claimed: Incident): Promise<void> {
  const { store, policy, logger } = deps;
  let inc = claimed;
  if (inc.state === 'approved') {
    inc = await moveIncident(store, inc, 'executing', ctx.now, 'executor', 'running the approved runbook');
  }
  if (inc.state !== 'executing' || !inc.runbook) return;
  const rb = inc.runbook;
  const log = logger.child({ incidentId: inc.id, stage: 'execute' });

  for (let i = 0; i < rb.steps.length; i++) {
    const step = rb.steps[i];
    if (!step) break;
    const key = idempotencyKey(inc, i);
    const prior = inc.steps.find((s) => s.index === i);
    if (prior && (prior.status === 'succeeded' || prior.status === 'skipped_already_done')) continue;
    // A step recorded failed while the run is still executing: the daemon stopped while compensating; go on with that.
    if (prior?.status === 'failed') {
      await failRun(deps, ctx, inc, i, prior.summary);
      return;
    }
    const now = deps.clock.now();
    // A manual step waits for a person to mark it done (src/execute/manual-step.ts); the next cycle looks
    // again, until its time limit: then the run stops and a person takes over.
    if (prior?.status === 'awaiting_person') {
      const timedOut = manualStepTimeout(policy, inc, prior, now);
      if (!timedOut) return;
      inc = await saveIncident(store, inc, now, 'executor', 'step.timed_out', (n) => finishStep(n, i, 'handed_to_human', now, timedOut.summary), timedOut.data);
      inc = await moveIncident(store, inc, 'needs_human', now, 'executor', timedOut.reason);
      await announce(deps, ctx, inc, 'final', `needs a person: step ${i + 1} was not marked done in time`);
      return;
    }

    if (prior?.status === 'started') {
      // The daemon stopped while this step ran: ask the cloud what happened; only "done" goes on without a person.
      const seen = await askCloud(deps.actions, step, key, ctx.signal, prior.startedAt);
      const outcome = recoveredOutcome(seen);
      if (outcome.kind === 'succeeded') {
        inc = await saveIncident(store, inc, now, 'executor', 'step.recovered', (n) => finishStep(n, i, 'skipped_already_done', now, outcome.summary), { step: i + 1, key, seen });
        continue;
      }
      inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `step ${i + 1} (${step.action}) was interrupted and its outcome is ${seen}; a person must check it`, (n) => finishStep(n, i, 'handed_to_human', now, outcome.summary));
      await announce(deps, ctx, inc, 'final', `needs a person: step ${i + 1} was interrupted`);
      return;
    }

    // Draining or no longer the leader: the step is not started; the incident stays `executing` and
    // the next runner (after a restart, or the new leader) continues from this step.
    const held = await admit(deps, ctx, 'execute.step');
    if (held !== null) {
      log.info({ step: i + 1, why: held }, 'step not started');
      return;
    }

    const verdict = await authorizeStep(deps, ctx, inc, i, now);
    if (!verdict.allowed) {
      await store.appendAudit({ at: now, incidentId: inc.id, kind: 'authorize.denied', actor: 'executor', data: { step: i + 1, reason: verdict.reason, detail: verdict.detail } });
      if (verdict.reason === 'approval_stale') {
        // Nothing ran and the approval is too old to act on: the same end as a request nobody approved in time.
        inc = await moveIncident(store, inc, 'expired', now, 'executor', `expired — not executed (${verdict.detail})`);
        await announce(deps, ctx, inc, 'final', 'expired — not executed (approved too long ago)');
        return;
      }
      inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `not executed: ${verdict.detail}`);
      await announce(deps, ctx, inc, 'final', `not executed: ${verdict.detail}`);
      return;
    }

    // Immediately before the call: is the world still the one that was approved?
    const unhealthy = stillUnhealthy(inc);
    const pre = unhealthy.ok ? await checkPreconditions(deps.actions, step, key, ctx.signal) : unhealthy;
    if (!pre.ok) {
      await store.appendAudit({ at: now, incidentId: inc.id, kind: 'precondition.failed', actor: 'executor', data: { step: i + 1, code: pre.code, detail: pre.detail } });
      inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `not executed, the approval is void: step ${i + 1} ${pre.detail}`);
      await announce(deps, ctx, inc, 'final', `not executed: step ${i + 1} ${pre.detail}`);
      return;
    }

    const mode = policy.doc.execution.mode;
    if (mode === 'live' && isManual(step)) {
      const instruction = await previewStep(deps.actions, step, ctx.signal);
      const rec: StepRecord = { index: i, action: step.action, idempotencyKey: key, status: 'awaiting_person', startedAt: now, endedAt: null, summary: instruction };
      inc = await saveIncident(store, inc, now, 'executor', 'step.awaiting_person', (n) => {
        n.steps = [...n.steps.filter((s) => s.index !== i), rec];
        n.reason = `step ${i + 1} is for a person: ${instruction} — mark it done on the page or with cloudops step done ${inc.id} ${i + 1} --as NAME`;
      }, { step: i + 1, action: step.action, params: step.params, key });
      await announce(deps, ctx, inc, 'decision', `a person is needed for step ${i + 1}: ${instruction}`.slice(0, 200));
      return;
    }
    if (mode !== 'live' || isManual(step)) {
      // Shadow and dry run record what would have run, with its preview, and never call the cloud; a manual step is a person's.
      const status = isManual(step) ? 'handed_to_human' : mode === 'shadow' ? 'would_have_run' : 'previewed';
      const preview = await previewStep(deps.actions, step, ctx.signal);
      const rec: StepRecord = { index: i, action: step.action, idempotencyKey: key, status, startedAt: now, endedAt: now, summary: preview };
      inc = await saveIncident(store, inc, now, 'executor', `step.${status}`, (n) => {
        n.steps = [...n.steps.filter((s) => s.index !== i), rec];
      }, { step: i + 1, action: step.action, params: step.params, key, preview, mode });
      if (status === 'handed_to_human') {
        inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `step ${i + 1} is for a person: ${preview}`);
        await announce(deps, ctx, inc, 'final', `needs a person for step ${i + 1}`);
        return;
      }
      continue;
    }

    const record: StepRecord = { index: i, action: step.action, idempotencyKey: key, status: 'started', startedAt: now, endedAt: null, summary: '' };
    const claim = await claimStep(deps, ctx, inc, step, record, now, { step: i + 1, action: step.action, params: step.params, key, approvedBy: verdict.approvedBy });
    if (!claim.claimed) {
      if (claim.budgetSpent === null) {
        log.warn({ step: i + 1 }, 'step not started: the store refused the claim (not the leader)');
        return;
      }
      // Another task (or incident) spent the hour's budget between authorize() and the claim: as authorize would say.
      await store.appendAudit({ at: now, incidentId: inc.id, kind: 'authorize.denied', actor: 'executor', data: { step: i + 1, reason: 'budget_spent', detail: claim.budgetSpent } });
      inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `not executed: ${claim.budgetSpent}`);
      await announce(deps, ctx, inc, 'final', `not executed: ${claim.budgetSpent}`);
      return;
    }
    inc = claim.inc;
    log.info({ step: i + 1, action: step.action }, 'step started');

    const outcome = await runStep(deps.actions, step, key, ctx.signal, now);
    const { summary } = outcome;
    const ok = outcome.kind === 'succeeded';
    const end = deps.clock.now();
    if (outcome.kind === 'uncertain') {
      inc = await saveIncident(store, inc, end, 'executor', 'step.uncertain', (n) => finishStep(n, i, 'handed_to_human', end, summary), { step: i + 1, summary });
      inc = await moveIncident(store, inc, 'needs_human', end, 'executor', `step ${i + 1} (${step.action}): ${summary}; a person must check it`);
      await announce(deps, ctx, inc, 'final', `needs a person: the outcome of step ${i + 1} is unknown`);
      return;
    }
    // The action's own verify: the cloud shows what the step promised (not only the runbook's recovery criteria later).
    // Its own deadline, not what is left of the stage's: a slow step that landed must still be read back,
    // and a stage deadline that passed during the call is not evidence that the step did not do its work.
    const check = ok ? await verifyStep(deps.actions, step, key, AbortSignal.timeout(STEP_VERIFY_MS), now, outcome.result ?? { ok: true, summary }) : null;
    const verified = check?.ok !== false;
    const recorded = check && !check.ok ? `${summary}; verify failed: ${check.detail}` : summary;
    inc = await saveIncident(store, inc, end, 'executor', 'step.finished', (n) => finishStep(n, i, ok && verified ? 'succeeded' : 'failed', end, recorded), { step: i + 1, ok: ok && verified, summary: recorded, ...(check ? { verify: check } : {}) });
    if (!ok || !verified) {
      // A failed verify means the call landed: its own compensating step is due as well.
      await failRun(deps, ctx, inc, i, recorded, { failedLanded: ok });
      return;
    }
  }
  const now = deps.clock.now();
  if (policy.doc.execution.mode !== 'live') {
    const what = policy.doc.execution.mode === 'shadow' ? 'shadow mode: every step shows what would have run' : 'dry run: every step was previewed';
    inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `${what}; nothing was executed, a person must act`);
    await announce(deps, ctx, inc, 'final', `${policy.doc.execution.mode === 'shadow' ? 'shadow' : 'dry run'}: nothing executed`);
    return;
  }
  inc = await moveIncident(store, inc, 'verifying', now, 'executor', 'all steps ran; checking that the service recovered', (n) => {
    n.verification = { startedAt: now, deadline: addMs(now, rb.verify.withinMs), healthyPolls: 0 };
  });
  await announce(deps, ctx, inc, 'decision', 'executed; verifying recovery');
}
