import type { EpochMs } from '../core/time.js';
import type { ApprovalRequest, Decision } from '../incident/incident.js';
import type { IncidentState } from '../incident/lifecycle.js';
import { attestDecisions } from '../approval/attested-decisions.js';
import { evaluateQuorum, type ApprovalRules } from '../approval/quorum.js';
import type { AuditRecord } from '../store/store.js';
import type { DraftedRunbook, RunbookStep } from '../runbook/runbook.js';
import { actionViolation, type ActionAllowList } from './action-policy.js';

export type DenyReason =
  | 'wrong_state'
  | 'no_request'
  | 'runbook_changed'
  | 'step_not_in_runbook'
  | 'rejected'
  | 'quorum_not_met'
  | 'approval_stale'
  | 'kill_switch'
  | 'action_not_allowed'
  | 'budget_spent'
  | 'cooldown';

export type Authorization =
  | { readonly allowed: true; readonly approvedBy: readonly string[] }
  | { readonly allowed: false; readonly reason: DenyReason; readonly detail: string };

export interface AuthorizeInput {
  readonly now: EpochMs;
  readonly state: IncidentState;
  readonly runbook: DraftedRunbook | null;
  /** runbookHash() of the runbook as stored now: content edited after the approval (a compensating step too) voids it. */
  readonly contentHash?: string;
  readonly request: ApprovalRequest | null;
  readonly decisions: readonly Decision[];
  /** The incident's audit records: an approval counts only if its `decision.recorded` record verifies. */
  readonly audit: readonly AuditRecord[];
  readonly stepIndex: number;
  /** Asks for step `stepIndex`'s compensating step (a later step failed) instead of the step itself. */
  readonly compensating?: boolean;
  /** Whether any step of this runbook was started already (a started run is finished, not expired). */
  readonly anyStepStarted: boolean;
  /** The policy's approval.executeWithin: how long after the quorum was met the first step may start. */
  readonly executeWithinMs: number;
  /** Built from the policy now (quorum size included); the stored request's count can only raise it. */
  readonly rules: ApprovalRules;
  readonly actions: ActionAllowList;
  readonly killSwitchOn: boolean;
  /** Steps started across all incidents within the last hour, and the policy's limit. */
  readonly stepsLastHour: number;
  readonly maxActionsPerHour: number;
  /** The newest earlier action on a resource this step touches, and the policy's per-resource cooldown. */
  readonly cooldown?: { readonly resource: string; readonly lastAt: EpochMs; readonly ms: number } | null;
}

/**
 * The single gate in front of every executor (invariant 1). Pure: everything it needs is in `input`.
 * Returns the reason for a denial, never just false.
 */
export function authorize(input: AuthorizeInput): Authorization {
  const deny = (reason: DenyReason, detail: string): Authorization => ({ allowed: false, reason, detail });
  if (input.state !== 'approved' && input.state !== 'executing') return deny('wrong_state', `incident is ${input.state}`);
  const { runbook, request } = input;
  if (!runbook || !request) return deny('no_request', 'no approval request for a runbook');
  if (runbook.hash !== request.runbookHash) return deny('runbook_changed', 'the runbook differs from the one approval was asked for');
  if (input.contentHash !== undefined && input.contentHash !== request.runbookHash) return deny('runbook_changed', 'the runbook\'s steps or compensating steps were changed after approval was asked for');
  const step: RunbookStep | undefined = runbook.steps[input.stepIndex];
  if (!step) return deny('step_not_in_runbook', `the runbook has no step ${input.stepIndex + 1}`);
  // A compensating step runs only as it was approved: the one the approved runbook (hash above) names.
  const call = input.compensating === true ? step.compensate : step;
  if (!call) return deny('step_not_in_runbook', `step ${input.stepIndex + 1} has no compensating step in the approved runbook`);

  // Every reject counts, vouched for or not (stopping is always safe); approvals need their audit record.
  const { unattested } = attestDecisions(input.decisions, input.audit);
  const counted = input.decisions.filter((d) => d.verdict === 'reject' || !unattested.some((u) => u.decision === d));
  const quorum = evaluateQuorum(request, counted, input.rules);
  if (quorum.rejectedBy) return deny('rejected', `rejected by ${quorum.rejectedBy.approver}`);
  if (!quorum.met) {
    const ignored = [...unattested.filter((u) => u.decision.verdict === 'approve'), ...quorum.ignored];
    const why = ignored.map((i) => `${i.decision.approver}: ${i.why}`).join('; ');
    return deny('quorum_not_met', `${quorum.approvedBy.length} of ${quorum.needed} approvals${why ? ` (not counted: ${why})` : ''}`);
  }
  if (!input.anyStepStarted && quorum.metAt !== null && input.now > quorum.metAt + input.executeWithinMs) {
    return deny('approval_stale', `approved too long ago: quorum met ${Math.round((input.now - quorum.metAt) / 60_000)} min ago, first step must start within ${Math.round(input.executeWithinMs / 60_000)} min`);
  }
  if (input.killSwitchOn) return deny('kill_switch', 'the kill switch is on');
  const violation = actionViolation(input.actions, call);
  if (violation) return deny('action_not_allowed', violation);
  if (input.stepsLastHour >= input.maxActionsPerHour) {
    return deny('budget_spent', `${input.stepsLastHour} actions ran in the last hour (limit ${input.maxActionsPerHour})`);
  }
  const cd = input.cooldown;
  if (cd && input.now < cd.lastAt + cd.ms) {
    return deny('cooldown', `${cd.resource} was acted on ${Math.round((input.now - cd.lastAt) / 60_000)} min ago (cooldown ${Math.round(cd.ms / 60_000)} min)`);
  }
  return { allowed: true, approvedBy: quorum.approvedBy };
}
