import { faultPoint } from '../core/fault-hook.js';
import type { MonotonicStamp } from '../core/clock.js';
import type { EpochMs } from '../core/time.js';
import type { ApprovalRequest, Decision } from '../incident/incident.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { approvalRules } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import {
  AlreadyDecidedError,
  ApprovalExpiredError,
  IncidentNotFoundError,
  NotAwaitingApprovalError,
  NotEligibleError,
  StaleRunbookError,
} from './errors.js';

export interface DecisionRequest {
  readonly incidentId: string;
  readonly approver: string;
  readonly verdict: 'approve' | 'reject';
  /** The runbook hash the person saw; a decision on another version is refused. */
  readonly runbookHash: string;
  readonly channel: Decision['channel'];
  readonly identity: string;
  readonly reason?: string;
}

/**
 * Records one person's decision, after checking everything that would make it not count. A refused
 * decision throws an ApprovalError and changes nothing. Recording does not move the incident; the
 * watcher evaluates the quorum next.
 */
export async function recordDecision(store: Store, policy: CompiledPolicy, req: DecisionRequest, now: EpochMs, monotonicNow?: MonotonicStamp): Promise<Decision> {
  const inc = await store.getIncident(req.incidentId);
  if (!inc) throw new IncidentNotFoundError(req.incidentId);
  if (inc.state !== 'awaiting_approval' || !inc.approval || !inc.runbook) throw new NotAwaitingApprovalError(inc.id, inc.state);
  if (now >= inc.approval.expiresAt || expiredOnMonotonic(inc.approval, monotonicNow)) throw new ApprovalExpiredError(inc.id);
  if (req.runbookHash !== inc.approval.runbookHash) throw new StaleRunbookError(inc.id);
  if (!policy.doc.approvers[req.approver]) throw new NotEligibleError(req.approver, 'not an approver in the policy');
  const rules = approvalRules(policy, inc.runbook.risk, inc.approval.escalated);
  if (!rules.eligible.has(req.approver)) throw new NotEligibleError(req.approver, `not in the quorum for ${inc.runbook.risk}-risk runbooks`);
  if (req.verdict === 'approve' && rules.selfApproval === 'forbidden' && inc.approval.excludedApprovers.includes(req.approver)) {
    throw new NotEligibleError(req.approver, 'they triggered the suspect deployment, and the policy forbids self-approval');
  }
  const decision: Decision = {
    incidentId: inc.id,
    approver: req.approver,
    verdict: req.verdict,
    runbookHash: req.runbookHash,
    at: now,
    channel: req.channel,
    identity: req.identity,
    ...(req.reason !== undefined ? { reason: req.reason.slice(0, 1000) } : {}),
  };
  faultPoint('decision.recorded', 'before');
  const res = await store.addDecision(decision, {
    at: now,
    incidentId: inc.id,
    kind: 'decision.recorded',
    actor: req.approver,
    data: { verdict: req.verdict, runbookHash: req.runbookHash, channel: req.channel, identity: req.identity, ...(req.reason ? { reason: req.reason.slice(0, 1000) } : {}) },
  });
  faultPoint('decision.recorded', 'after');
  if (!res.added) throw new AlreadyDecidedError(req.approver, res.existing.verdict);
  return decision;
}

/**
 * True when real elapsed time since the request was opened is past its TTL, even if a backward wall
 * clock step says otherwise. Only readings from the process that opened it compare (same origin).
 */
export function expiredOnMonotonic(request: ApprovalRequest, now: MonotonicStamp | undefined): boolean {
  const opened = request.openedMonotonic;
  if (!opened || !now || opened.origin !== now.origin) return false;
  return now.at - opened.at >= request.expiresAt - request.requestedAt;
}
