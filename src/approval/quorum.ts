import type { EpochMs } from '../core/time.js';
import type { ApprovalRequest, Decision } from '../incident/incident.js';

/** What the approval rules need from the policy, compiled once. */
export interface ApprovalRules {
  /** Approvers whose approval counts toward this request's quorum. */
  readonly eligible: ReadonlySet<string>;
  readonly selfApproval: 'forbidden' | 'allowed';
  /**
   * Approvals the policy requires for this risk level, derived when the rules are built, never read
   * back from the stored request (a row edited to 0 must not approve anything).
   */
  readonly needed: number;
}

export interface IgnoredDecision {
  readonly decision: Decision;
  readonly why: string;
}

export interface QuorumState {
  /** Distinct eligible approvers who approved this exact runbook in time. */
  readonly approvedBy: readonly string[];
  readonly needed: number;
  readonly met: boolean;
  /** The first counted rejection, if any: one authorized reject ends the request. */
  readonly rejectedBy: Decision | null;
  readonly ignored: readonly IgnoredDecision[];
  /** When the counted approval that completed the quorum was given; null while it is not met. */
  readonly metAt: EpochMs | null;
}

/**
 * Counts decisions toward a request's quorum. A decision counts only if it names this runbook hash,
 * was given before the request expired, comes from an eligible approver, is not a self-approval the
 * policy forbids, and is the first from that approver.
 */
export function evaluateQuorum(request: ApprovalRequest, decisions: readonly Decision[], rules: ApprovalRules): QuorumState {
  const approvedBy: string[] = [];
  const ignored: IgnoredDecision[] = [];
  let rejectedBy: Decision | null = null;
  const approvedAt: EpochMs[] = [];
  const seen = new Set<string>();
  const ordered = [...decisions].sort((a, b) => a.at - b.at);
  for (const d of ordered) {
    const why = disqualify(request, d, rules, seen);
    if (why) {
      ignored.push({ decision: d, why });
      continue;
    }
    seen.add(d.approver);
    if (d.verdict === 'reject') rejectedBy ??= d;
    else {
      approvedBy.push(d.approver);
      approvedAt.push(d.at);
    }
  }
  // The policy's count; the stored request can only raise it. A tampered NaN or negative never lowers it.
  const stored = Number.isFinite(request.requiredApprovals) ? request.requiredApprovals : Number.POSITIVE_INFINITY;
  const needed = Math.max(rules.needed, stored, 1);
  const met = rejectedBy === null && approvedBy.length >= needed;
  return { approvedBy, needed, met, rejectedBy, ignored, metAt: met ? (approvedAt[needed - 1] ?? null) : null };
}

function disqualify(request: ApprovalRequest, d: Decision, rules: ApprovalRules, seen: ReadonlySet<string>): string | null {
  if (d.runbookHash !== request.runbookHash) return 'names another runbook version';
  if (d.at >= request.expiresAt) return 'arrived after the request expired';
  if (d.at < request.requestedAt) return 'predates the request';
  if (!rules.eligible.has(d.approver)) return `${d.approver} is not an approver for this risk level`;
  if (d.verdict === 'approve' && rules.selfApproval === 'forbidden' && request.excludedApprovers.includes(d.approver)) {
    return `${d.approver} triggered the suspect deployment and may not approve its fix`;
  }
  if (seen.has(d.approver)) return `${d.approver} already decided`;
  return null;
}

export function isExpired(request: ApprovalRequest, now: EpochMs): boolean {
  return now >= request.expiresAt;
}

/** What self-approval matching needs from an approver in the policy. */
export interface ApproverIdentities {
  readonly displayName?: string | undefined;
  readonly email?: string | undefined;
  readonly slackUserId?: string | undefined;
  readonly authorIds?: readonly string[] | undefined;
}

/**
 * The approvers who may not approve the fix of `deployment` where self-approval is forbidden: whoever
 * triggered it (a user ARN ends in their name) and whoever wrote its source revision (author email or
 * login, matched against the approver's name, email, Slack id, display name and mapped author ids). A
 * webhook-triggered deployment still excludes its author. Case-insensitive. Pure.
 */
export function selfApprovers(approvers: Readonly<Record<string, ApproverIdentities>>, deployment: { readonly triggeredBy?: string | undefined; readonly author?: string | undefined }): string[] {
  const who = [deployment.triggeredBy, deployment.author].filter((w): w is string => typeof w === 'string' && w.trim() !== '').map((w) => w.trim().toLowerCase());
  if (who.length === 0) return [];
  const matches = (w: string, x: string): boolean => {
    const v = x.trim().toLowerCase();
    return v !== '' && (w === v || w.endsWith(`/${v}`) || w.endsWith(`<${v}>`));
  };
  return Object.entries(approvers)
    .filter(([name, a]) => [name, a.email, a.slackUserId, a.displayName, ...(a.authorIds ?? [])].some((x) => x !== undefined && who.some((w) => matches(w, x))))
    .map(([name]) => name)
    .sort();
}
