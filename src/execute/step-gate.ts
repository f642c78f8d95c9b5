import type { ActionCall } from '../cloud/ports.js';
import { addMs, HOUR, parseDuration, type EpochMs } from '../core/time.js';
import type { Incident, StepRecord } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from '../pipeline/context.js';
import { saveIncident } from '../pipeline/transitions.js';
import { approvalRules } from '../policy/compile.js';
import { runbookHash } from '../runbook/runbook.js';
import { StepBudgetSpentError } from '../store/errors.js';
import { StaleFencingTokenError } from '../store/lease.js';
import { authorize, type Authorization } from './authorize.js';
import { lastActionOn, markResources } from './step-outcome.js';

/**
 * What every step the runner starts goes through, a runbook step or a compensating one: `authorize()` over the
 * store's current decisions, audit and counters, then the claim in the store (fenced, spending the hour's
 * budget in the same write) before the call.
 */

/** authorize() for step `index` of the incident's runbook (or its compensating step), read fresh from the store. */
export async function authorizeStep(deps: PipelineDeps, ctx: CycleContext, inc: Incident, index: number, now: EpochMs, opts: { readonly compensating?: boolean } = {}): Promise<Authorization> {
  const { store, policy } = deps;
  const rb = inc.runbook;
  const step = rb?.steps[index];
  const call = opts.compensating === true ? step?.compensate : step;
  return authorize({
    now,
    state: inc.state,
    runbook: rb,
    ...(rb ? { contentHash: runbookHash(rb) } : {}),
    request: inc.approval,
    decisions: await store.listDecisions(inc.id),
    audit: await store.listAudit({ incidentId: inc.id }),
    stepIndex: index,
    ...(opts.compensating === true ? { compensating: true } : {}),
    anyStepStarted: inc.steps.length > 0,
    executeWithinMs: parseDuration(policy.doc.approval.executeWithin),
    rules: approvalRules(policy, rb?.risk ?? 'high', inc.approval?.escalated ?? false),
    actions: policy.doc.actions,
    killSwitchOn: await deps.killSwitch(ctx.signal).catch(() => true),
    // The clock-hour counter is what two tasks cannot both overspend; the audit count over the last 60
    // minutes keeps "at most N per hour" true across an hour boundary, where a bucket alone allows 2N.
    stepsLastHour: Math.max(await store.stepsInHour(now, { signal: ctx.signal }), await store.countStepsSince(addMs(now, -HOUR), { signal: ctx.signal })),
    maxActionsPerHour: policy.doc.safety.maxActionsPerHour,
    // A compensating step undoes this run's own action on the same resource: the cooldown does not hold it back.
    cooldown: call && opts.compensating !== true ? await cooldownFor(deps, call, inc.id) : null,
  });
}

/** The newest earlier action by another incident on a resource this step touches, with the policy's cooldown. */
async function cooldownFor(deps: PipelineDeps, step: ActionCall, incidentId: string): Promise<{ resource: string; lastAt: EpochMs; ms: number } | null> {
  const last = await lastActionOn(deps.store, step, incidentId);
  return last ? { ...last, ms: parseDuration(deps.policy.doc.execution.cooldown) } : null;
}

export type Claim = { readonly claimed: true; readonly inc: Incident } | { readonly claimed: false; readonly budgetSpent: string | null };

/**
 * Records the step as started (at most once: the write carries the lease's fencing token, so a process that
 * lost the lease is refused) and marks its resources for the cooldown. Not claimed: the hour's budget was
 * spent between authorize() and the claim (`budgetSpent` says so), or this process is no longer the leader.
 */
export async function claimStep(deps: PipelineDeps, ctx: CycleContext, inc: Incident, call: ActionCall, record: StepRecord, now: EpochMs, data: Record<string, unknown>): Promise<Claim> {
  const fence = deps.fence?.();
  try {
    const next = await saveIncident(deps.store, inc, now, 'executor', 'step.started', (n) => {
      n.steps = [...n.steps.filter((s) => s.index !== record.index), record];
    }, { ...data, ...(fence ? { fence: fence.token } : {}) }, fence, { budget: { at: now, max: deps.policy.doc.safety.maxActionsPerHour }, signal: ctx.signal });
    await markResources(deps.store, call, now, inc.id);
    return { claimed: true, inc: next };
  } catch (err) {
    if (err instanceof StepBudgetSpentError) return { claimed: false, budgetSpent: err.message };
    if (err instanceof StaleFencingTokenError) return { claimed: false, budgetSpent: null };
    throw err;
  }
}

export function finishStep(n: Incident, index: number, status: StepRecord['status'], at: EpochMs, summary: string): void {
  const s = n.steps.find((x) => x.index === index);
  if (s) Object.assign(s, { status, endedAt: at, summary });
}
