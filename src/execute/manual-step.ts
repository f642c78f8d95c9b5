import { isManual } from './step-outcome.js';
import { addMs, parseDuration, type EpochMs } from '../core/time.js';
import type { Incident, StepRecord } from '../incident/incident.js';
import { approvalRules, type CompiledPolicy } from '../policy/compile.js';
import { nextVersion, StoreConflictError, type Store } from '../store/store.js';

/**
 * A `manual` step hands the run over to a person (issue 12 item 1): the runner records it as
 * `awaiting_person` and waits; an approver of the incident marks it done (page, API or CLI), which is
 * audited with their identity and note, and the runner goes on with the next step on its next cycle.
 * The wait is bounded (`execution.manualStepTimeout`): past it the run stops and a late mark is refused.
 */

/** Why marking a step done was refused; `status` is the HTTP answer. Nothing is changed. */
export class StepDoneError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
    this.name = 'StepDoneError';
  }
}

export interface StepDoneInput {
  readonly incidentId: string;
  /** 1-based, as the page and the CLI number steps. */
  readonly step: number;
  readonly approver: string;
  /** How the person was identified ("token:alice", "oidc:alice@example.com"). */
  readonly identity: string;
  readonly channel: 'web' | 'api' | 'cli';
  readonly note?: string;
}

/** The record of a done manual step, as the summary shows it. */
const doneSummary = (approver: string, note: string | undefined): string => `done by ${approver}${note ? `: ${note}` : ''}`;

/** When a manual step handed to a person at `startedAt` stops waiting for them. */
export const manualStepDeadline = (policy: CompiledPolicy, rec: Pick<StepRecord, 'startedAt'>): EpochMs => addMs(rec.startedAt, parseDuration(policy.doc.execution.manualStepTimeout));

/**
 * Whether a waiting manual step has run out of time at `now`, and what the runner records then. Pure:
 * `now` comes from the runner's Clock.
 */
export function manualStepTimeout(policy: CompiledPolicy, inc: Incident, rec: StepRecord, now: EpochMs): { summary: string; reason: string; data: Record<string, unknown> } | null {
  if (rec.status !== 'awaiting_person') return null;
  const deadline = manualStepDeadline(policy, rec);
  if (now < deadline) return null;
  const within = policy.doc.execution.manualStepTimeout;
  return {
    summary: `nobody marked it done within ${within} (${rec.summary})`,
    reason: `step ${rec.index + 1} (manual) was not marked done within ${within}; the run stopped and a person must take over (a late mark is refused: check what was done, then close or re-propose ${inc.id})`,
    data: { step: rec.index + 1, action: rec.action, waitedFrom: rec.startedAt, deadline, timeout: within },
  };
}

/** The refusal of a mark that came after the step's wait ran out (the runner may not have seen it yet). */
function lateMark(policy: CompiledPolicy, inc: Incident, rec: StepRecord, now: EpochMs): StepDoneError | null {
  const deadline = manualStepDeadline(policy, rec);
  const timedOut = rec.status === 'awaiting_person' ? now >= deadline : rec.status === 'handed_to_human' && rec.endedAt !== null && rec.endedAt >= deadline;
  if (!timedOut) return null;
  const within = policy.doc.execution.manualStepTimeout;
  return new StepDoneError(`step ${rec.index + 1} of ${inc.id} is no longer waiting: nobody marked it done within ${within} (by ${new Date(deadline).toISOString()}), so the run stopped and was handed to a person; this mark is refused`, 409);
}

/** Why this person may not mark this step done now, or null. Pure. */
export function refuseStepDone(policy: CompiledPolicy, inc: Incident, input: StepDoneInput, now: EpochMs): StepDoneError | null {
  const rb = inc.runbook;
  if (!rb || !inc.approval) return new StepDoneError(`incident ${inc.id} has no approved runbook`, 409);
  const index = input.step - 1;
  const step = rb.steps[index];
  if (!Number.isInteger(input.step) || !step) return new StepDoneError(`incident ${inc.id} has no step ${input.step} (it has ${rb.steps.length})`, 404);
  if (!isManual(step)) return new StepDoneError(`step ${input.step} (${step.action}) is not a manual step; the daemon runs it`, 409);
  const rules = approvalRules(policy, rb.risk, inc.approval.escalated);
  if (!rules.eligible.has(input.approver)) return new StepDoneError(`${input.approver} is not an approver of ${inc.id} (${rb.risk} risk): only they may mark its steps done`, 403);
  const rec = inc.steps.find((s) => s.index === index);
  if (rec?.status === 'succeeded') return new StepDoneError(`step ${input.step} of ${inc.id} was already marked done (${rec.summary})`, 409);
  const late = rec ? lateMark(policy, inc, rec, now) : null;
  if (late) return late;
  if (inc.state !== 'executing' || rec?.status !== 'awaiting_person') {
    return new StepDoneError(`step ${input.step} of ${inc.id} is not waiting for a person (incident ${inc.state}${rec ? `, step ${rec.status.replace(/_/g, ' ')}` : ', step not reached'})`, 409);
  }
  return null;
}

/**
 * Marks the current awaiting manual step done, as one conditional write with its audit record. A
 * second mark, or one racing another, is a 409 naming who marked it.
 */
export async function markStepDone(store: Store, policy: CompiledPolicy, input: StepDoneInput, now: EpochMs): Promise<Incident> {
  const inc = await store.getIncident(input.incidentId);
  if (!inc) throw new StepDoneError(`no incident ${input.incidentId}`, 404);
  const refused = refuseStepDone(policy, inc, input, now);
  if (refused) throw refused;
  const note = input.note?.trim().slice(0, 1000) || undefined;
  const next = nextVersion(inc, now);
  const rec = next.steps.find((s) => s.index === input.step - 1) as StepRecord;
  Object.assign(rec, { status: 'succeeded', endedAt: now, summary: doneSummary(input.approver, note) });
  next.reason = `step ${input.step} marked done by ${input.approver}; the run continues with the next step`;
  try {
    await store.updateIncident(next, {
      at: now,
      incidentId: inc.id,
      kind: 'step.done',
      actor: input.approver,
      data: { step: input.step, action: rec.action, approver: input.approver, identity: input.identity, channel: input.channel, ...(note ? { note } : {}) },
    });
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // Someone else wrote first (a second mark, or the runner): answer from what is stored now.
    const now2 = await store.getIncident(inc.id);
    throw (now2 && refuseStepDone(policy, now2, input, now)) ?? new StepDoneError(`incident ${inc.id} changed meanwhile; try again`, 409);
  }
  return next;
}
