import { errorMessage } from '../core/errors.js';
import { addMs, HOUR, parseDuration, type EpochMs } from '../core/time.js';
import { authorize } from '../execute/authorize.js';
import type { Incident, StepRecord } from '../incident/incident.js';
import { approvalRules } from '../policy/compile.js';
import { StaleFencingTokenError } from '../store/lease.js';
import { announce } from './announce.js';
import { admit, type CycleContext, type PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';

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
    const now = deps.clock.now();

    if (prior?.status === 'started') {
      // The daemon stopped while this step ran: ask the cloud what happened before doing anything.
      const seen = await deps.actions.check(step, key, ctx.signal).catch(() => 'unknown' as const);
      if (seen === 'done') {
        inc = await saveIncident(store, inc, now, 'executor', 'step.recovered', (n) => finishStep(n, i, 'skipped_already_done', now, 'found already done in the cloud after a restart'), { step: i + 1, key });
        continue;
      }
      if (seen !== 'not_started') {
        inc = await moveIncident(store, inc, 'needs_human', now, 'executor', `step ${i + 1} (${step.action}) was interrupted and its outcome is ${seen}; a person must check it`, (n) => finishStep(n, i, 'handed_to_human', now, `outcome ${seen} after a restart`));
        await announce(deps, ctx, inc, 'final', `needs a person: step ${i + 1} was interrupted`);
        return;
      }
    }

    // Draining or no longer the leader: the step is not started; the incident stays `executing` and
    // the next runner (after a restart, or the new leader) continues from this step.
    const held = await admit(deps, ctx, 'execute.step');
    if (held !== null) {
      log.info({ step: i + 1, why: held }, 'step not started');
      return;
    }

    const decisions = await store.listDecisions(inc.id);
    const verdict = authorize({
      now,
      state: inc.state,
      runbook: rb,
      request: inc.approval,
      decisions,
      audit: await store.listAudit({ incidentId: inc.id }),
      stepIndex: i,
      anyStepStarted: inc.steps.length > 0,
      executeWithinMs: parseDuration(policy.doc.approval.executeWithin),
      rules: approvalRules(policy, rb.risk, inc.approval?.escalated ?? false),
      actions: policy.doc.actions,
      killSwitchOn: await deps.killSwitch(ctx.signal).catch(() => true),
      stepsLastHour: await store.countStepsSince(addMs(now, -HOUR)),
      maxActionsPerHour: policy.doc.safety.maxActionsPerHour,
    });
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

    const record: StepRecord = { index: i, action: step.action, idempotencyKey: key, status: 'started', startedAt: now, endedAt: null, summary: '' };
    // The claim carries the lease's fencing token: a process that lost the lease (paused past it) is refused here.
    const fence = deps.fence?.();
    try {
      inc = await saveIncident(store, inc, now, 'executor', 'step.started', (n) => {
        n.steps = [...n.steps.filter((s) => s.index !== i), record];
      }, { step: i + 1, action: step.action, params: step.params, key, approvedBy: verdict.approvedBy, ...(fence ? { fence: fence.token } : {}) }, fence);
    } catch (err) {
      if (!(err instanceof StaleFencingTokenError)) throw err;
      log.warn({ step: i + 1, why: err.message }, 'step not started: the store refused the claim (not the leader)');
      return;
    }
    log.info({ step: i + 1, action: step.action }, 'step started');

    let ok: boolean;
    let summary: string;
    try {
      const res = await deps.actions.execute(step, key, ctx.signal);
      ok = res.ok;
      summary = res.summary;
    } catch (err) {
      ok = false;
      summary = `error: ${errorMessage(err)}`;
    }
    const end = deps.clock.now();
    inc = await saveIncident(store, inc, end, 'executor', 'step.finished', (n) => finishStep(n, i, ok ? 'succeeded' : 'failed', end, summary), { step: i + 1, ok, summary });
    if (!ok) {
      inc = await moveIncident(store, inc, 'failed', end, 'executor', `step ${i + 1} failed: ${summary}`);
      inc = await moveIncident(store, inc, 'needs_human', end, 'executor', `step ${i + 1} failed: ${summary}; a person must take over`);
      await announce(deps, ctx, inc, 'final', `failed at step ${i + 1}`);
      return;
    }
  }
  const now = deps.clock.now();
  inc = await moveIncident(store, inc, 'verifying', now, 'executor', 'all steps ran; checking that the service recovered', (n) => {
    n.verification = { startedAt: now, deadline: addMs(now, rb.verify.withinMs), healthyPolls: 0 };
  });
  await announce(deps, ctx, inc, 'decision', 'executed; verifying recovery');
}

function finishStep(n: Incident, index: number, status: StepRecord['status'], at: EpochMs, summary: string): void {
  const s = n.steps.find((x) => x.index === index);
  if (s) Object.assign(s, { status, endedAt: at, summary });
}
