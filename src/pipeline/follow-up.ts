import { plainLine } from '../core/sanitize.js';
import type { Incident } from '../incident/incident.js';
import { followUp, type FollowUpKind } from '../incident/lifecycle.js';
import { asRevision, nextVersionNumber } from '../incident/revisions.js';
import { describeDraftProblems } from '../runbook/draft-gate.js';
import { StoreConflictError, nextVersion } from '../store/store.js';
import { announce } from './announce.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { gateDraft, openRequest } from './propose-draft.js';
import { endedRequest } from './redraft.js';

/** A person's next step on an incident the watcher is done with (issue 15 item 14). */
export interface FollowUpRequest {
  readonly incidentId: string;
  readonly kind: FollowUpKind;
  /** The approver asking (identified by their token). */
  readonly by: string;
  /** Who takes it (assign only). */
  readonly to?: string;
  /** Why; required to close. */
  readonly note?: string;
}

/** A follow-up that was refused: nothing changed. `status` is the HTTP status that says why. */
export class FollowUpError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
    this.name = 'FollowUpError';
  }
}

const NAME = /^[A-Za-z0-9._@-]{1,100}$/;
const clean = (s: string | undefined): string => plainLine(s ?? '').slice(0, 1000);

/**
 * Applies a follow-up, write-ahead (stored and audited, then announced): re-propose opens a new request
 * for the same runbook as its next version (a new hash: decisions on the old request never count; the
 * draft gate checks it again against today's policy), assign records who handles it (→ needs_human),
 * close ends it with a note. The person must be an approver in the policy.
 */
export async function applyFollowUp(deps: PipelineDeps, ctx: CycleContext, req: FollowUpRequest): Promise<Incident> {
  const inc = await deps.store.getIncident(req.incidentId);
  if (!inc) throw new FollowUpError(`no incident ${req.incidentId}`, 404);
  if (!deps.policy.doc.approvers[req.by]) throw new FollowUpError(`${req.by} is not an approver in the policy`, 403);
  const verdict = followUp(inc.state, req.kind);
  if (!verdict.ok) throw new FollowUpError(verdict.why, 409);
  const note = clean(req.note);
  const now = ctx.now;
  const next = nextVersion(inc, now);
  next.state = verdict.to;
  let title: string;
  const data: Record<string, unknown> = { from: inc.state, to: verdict.to, followUp: req.kind, by: req.by, ...(note ? { note } : {}) };
  if (req.kind === 'repropose') {
    const ended = endedRequest(inc, inc.state === 'rejected' ? 'rejected' : 'expired', now, inc.reason);
    if (!ended || !inc.runbook) throw new FollowUpError(`incident ${inc.id} has no runbook to propose again`, 409);
    const rb = asRevision(inc.runbook, nextVersionNumber([...(inc.requests ?? []), ended]));
    const problems = gateDraft(deps, rb);
    if (problems.length > 0) throw new FollowUpError(`the runbook cannot run under the policy now: ${describeDraftProblems(problems)}`, 409);
    next.requests = [...(inc.requests ?? []), ended];
    next.runbook = rb;
    next.approval = openRequest(deps, rb, inc.correlation, now);
    next.reason = `re-proposed by ${req.by} as version ${rb.revision ?? 2}${note ? `: ${note}` : ''} — runbook "${rb.title}" awaits ${next.approval.requiredApprovals} approval(s)`;
    Object.assign(data, { reason: next.reason, runbook: { hash: rb.hash, revision: rb.revision, previous: ended.runbookHash } });
    title = `re-proposed by ${req.by}: approval needed: ${rb.title} (version ${rb.revision ?? 2})`;
  } else if (req.kind === 'assign') {
    const to = clean(req.to);
    if (!NAME.test(to)) throw new FollowUpError('assign needs --to NAME (letters, digits, . _ @ -)', 400);
    next.assignee = { to, by: req.by, at: now, note };
    next.reason = `assigned to ${to} by ${req.by}${note ? `: ${note}` : ''} — not executed`;
    Object.assign(data, { reason: next.reason, assignee: to });
    title = `assigned to ${to} by ${req.by}`;
  } else {
    if (!note) throw new FollowUpError('close needs a note (why it is closed)', 400);
    next.reason = `closed by ${req.by}: ${note}`;
    Object.assign(data, { reason: next.reason });
    title = `closed by ${req.by}`;
  }
  try {
    await deps.store.updateIncident(next, { at: now, incidentId: inc.id, kind: inc.state === next.state ? `incident.${req.kind}` : 'incident.transition', actor: req.by, data });
  } catch (err) {
    if (err instanceof StoreConflictError) throw new FollowUpError(`incident ${inc.id} changed meanwhile; look again and retry`, 409);
    throw err;
  }
  deps.logger.info({ incidentId: inc.id, stage: 'follow-up', kind: req.kind, by: req.by }, title);
  await announce(deps, ctx, next, req.kind === 'repropose' ? 'proposal' : 'final', title);
  return next;
}
