import { evaluateQuorum } from '../approval/quorum.js';
import type { EpochMs } from '../core/time.js';
import { allCleared } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import { approvalRules } from '../policy/compile.js';
import { announce } from './announce.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';

export type DecideOutcome = 'approved' | 'rejected' | 'expired' | 'withdrawn' | 'waiting';

/**
 * Decides what happens to an incident awaiting approval, in this order: a counted reject ends it;
 * a met quorum approves it; past the deadline it expires (nothing runs); cleared signals withdraw it;
 * otherwise reminders and escalation fall due. Silence is never consent.
 */
export async function decideOne(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<DecideOutcome> {
  const { store, policy } = deps;
  const req = inc.approval;
  const now = ctx.now as EpochMs;
  if (inc.state !== 'awaiting_approval' || !req || !inc.runbook) return 'waiting';
  const decisions = await store.listDecisions(inc.id);
  const q = evaluateQuorum(req, decisions, approvalRules(policy, inc.runbook.risk, req.escalated));
  if (q.rejectedBy) {
    const r = q.rejectedBy;
    const next = await moveIncident(store, inc, 'rejected', now, r.approver, `rejected by ${r.approver}${r.reason ? `: ${r.reason}` : ''} — not executed`);
    await announce(deps, ctx, next, 'final', 'rejected — not executed');
    return 'rejected';
  }
  if (q.met) {
    const next = await moveIncident(store, inc, 'approved', now, 'watcher', `approved by ${q.approvedBy.join(', ')}`, undefined, { approvedBy: q.approvedBy, runbookHash: req.runbookHash });
    await announce(deps, ctx, next, 'decision', `approved by ${q.approvedBy.join(', ')}`);
    return 'approved';
  }
  if (now >= req.expiresAt) {
    const next = await moveIncident(store, inc, 'expired', now, 'watcher', `expired — not executed (${q.approvedBy.length} of ${q.needed} approvals before the deadline)`);
    await announce(deps, ctx, next, 'final', 'expired — not executed');
    return 'expired';
  }
  if (allCleared(inc)) {
    const next = await moveIncident(store, inc, 'withdrawn', now, 'watcher', 'the anomaly cleared by itself before approval — not executed');
    await announce(deps, ctx, next, 'final', 'withdrawn: the anomaly cleared by itself');
    return 'withdrawn';
  }
  const due = policy.reminderMs.filter((r) => now >= req.requestedAt + r).length;
  if (due > req.remindersSent) {
    const next = await saveIncident(store, inc, now, 'watcher', 'approval.reminder', (n) => {
      if (n.approval) n.approval.remindersSent = due;
    });
    await announce(deps, ctx, next, 'reminder', `reminder: approval needed, ${Math.ceil((req.expiresAt - now) / 60_000)} min left`);
  } else if (policy.escalation && !req.escalated && now >= req.requestedAt + policy.escalation.afterMs) {
    const next = await saveIncident(store, inc, now, 'watcher', 'approval.escalated', (n) => {
      if (n.approval) n.approval.escalated = true;
    }, { to: [...policy.escalation.to] });
    await announce(deps, ctx, next, 'reminder', `escalated to ${[...policy.escalation.to].join(', ')}`);
  }
  return 'waiting';
}
