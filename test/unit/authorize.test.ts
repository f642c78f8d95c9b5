import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { authorize, type AuthorizeInput, type DenyReason } from '../../src/execute/authorize.js';
import type { ApprovalRequest, Decision } from '../../src/incident/incident.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { chainRecord, GENESIS_HASH } from '../../src/store/audit-chain.js';
import type { AuditRecord } from '../../src/store/store.js';

const T0 = 1_800_000_000_000;
const at = (min: number): EpochMs => (T0 + min * 60_000) as EpochMs;

const draft = {
  templateId: 'rollback',
  title: 'Roll back',
  risk: 'medium' as const,
  steps: [{ action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy' }, description: 'roll back', risk: 'medium' as const }],
  verify: { withinMs: 600_000, healthyPolls: 3 },
  body: '',
  draftedBy: 'template',
};
const RB: DraftedRunbook = { ...draft, hash: runbookHash(draft) };
const OTHER_HASH = runbookHash({ ...draft, steps: [{ ...draft.steps[0]!, params: { pipeline: 'payments-deploy' } }] });

const REQUEST: ApprovalRequest = { runbookHash: RB.hash, requestedAt: at(0), expiresAt: at(15), requiredApprovals: 2, excludedApprovers: ['erin'], channels: ['web'], remindersSent: 0, escalated: false };
const approve = (approver: string, min = 1, hash = RB.hash): Decision => ({ incidentId: 'i', approver, verdict: 'approve', runbookHash: hash, at: at(min), channel: 'cli', identity: `token:${approver}` });

/** The audit records `recordDecision` writes beside each decision, chained as the store chains them. */
function auditFor(decisions: readonly Decision[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const d of decisions) {
    const prev = out.at(-1);
    out.push(chainRecord(out.length + 1, prev?.hash ?? GENESIS_HASH, { at: d.at, incidentId: d.incidentId, kind: 'decision.recorded', actor: d.approver, data: { verdict: d.verdict, runbookHash: d.runbookHash, channel: d.channel, identity: d.identity } }));
  }
  return out;
}

/** Everything in order: the gate allows. Each row below changes exactly one thing. */
const BASE: AuthorizeInput = {
  now: at(5),
  state: 'approved',
  runbook: RB,
  request: REQUEST,
  decisions: [approve('alice'), approve('bob')],
  audit: auditFor([approve('alice'), approve('bob')]),
  stepIndex: 0,
  anyStepStarted: false,
  executeWithinMs: 15 * 60_000,
  rules: { eligible: new Set(['alice', 'bob', 'erin', 'carol']), selfApproval: 'forbidden', needed: 2 },
  actions: { 'codepipeline.rollback': { risk: 'medium', params: { pipeline: { required: true, pattern: '[a-z-]+' } } } },
  killSwitchOn: false,
  stepsLastHour: 0,
  maxActionsPerHour: 5,
};

const ROWS: [string, Partial<AuthorizeInput>, DenyReason][] = [
  ['quorum met longer ago than approval.executeWithin and no step started', { now: at(17) }, 'approval_stale'],
  ['below quorum (one approval of two)', { decisions: [approve('alice')] }, 'quorum_not_met'],
  ['no decisions at all (silence is not consent)', { decisions: [] }, 'quorum_not_met'],
  ['the same approver twice is one approval', { decisions: [approve('alice', 1), approve('alice', 2)] }, 'quorum_not_met'],
  ['an approver the policy does not authorize', { decisions: [approve('alice'), approve('mallory')] }, 'quorum_not_met'],
  ['a decision naming another runbook hash', { decisions: [approve('alice'), approve('bob', 1, OTHER_HASH)] }, 'quorum_not_met'],
  ['a decision given after the request expired', { decisions: [approve('alice'), approve('bob', 16)] }, 'quorum_not_met'],
  ['a decision older than the request', { decisions: [approve('alice'), approve('bob', -1)] }, 'quorum_not_met'],
  ['self-approval by who triggered the suspect deployment', { decisions: [approve('alice'), approve('erin')] }, 'quorum_not_met'],
  ['an authorized reject among the approvals', { decisions: [approve('alice'), approve('bob'), { ...approve('carol'), verdict: 'reject' }] }, 'rejected'],
  ['the kill switch is on', { killSwitchOn: true }, 'kill_switch'],
  ['the action is not allow-listed', { actions: {} }, 'action_not_allowed'],
  ['a parameter outside the allowed pattern', { runbook: { ...RB, steps: [{ ...RB.steps[0]!, params: { pipeline: 'Checkout; rm -rf' } }] }, request: { ...REQUEST, runbookHash: RB.hash } }, 'action_not_allowed'],
  ['the blast-radius budget is spent', { stepsLastHour: 5 }, 'budget_spent'],
  ['the incident is not approved', { state: 'awaiting_approval' }, 'wrong_state'],
  ['the runbook differs from the approved one', { runbook: { ...RB, hash: OTHER_HASH } }, 'runbook_changed'],
  ['no approval request', { request: null }, 'no_request'],
  ['a step the runbook does not have', { stepIndex: 3 }, 'step_not_in_runbook'],
  // Issue 10, item 4: the quorum comes from the policy, and only approvals the audit trail vouches for count.
  ['the stored request asks for zero approvals (a tampered row)', { request: { ...REQUEST, requiredApprovals: 0 }, decisions: [] }, 'quorum_not_met'],
  ['the stored request asks for one approval where the policy needs two', { request: { ...REQUEST, requiredApprovals: 1 }, decisions: [approve('alice')] }, 'quorum_not_met'],
  ['the stored request asks for a negative number of approvals', { request: { ...REQUEST, requiredApprovals: -5 }, decisions: [] }, 'quorum_not_met'],
  ['an approval with no audit record (a row inserted in the database)', { audit: auditFor([approve('alice')]) }, 'quorum_not_met'],
  ['an approval whose audit record was altered after writing', { audit: auditFor([approve('alice'), approve('bob')]).map((r) => (r.actor === 'bob' ? { ...r, at: at(2) } : r)), decisions: [approve('alice'), approve('bob', 2)] }, 'quorum_not_met'],
  ['an approval whose audit record says reject', { audit: auditFor([approve('alice'), { ...approve('bob'), verdict: 'reject' }]) }, 'quorum_not_met'],
  ['an approval whose audit record names another runbook', { audit: auditFor([approve('alice'), approve('bob', 1, OTHER_HASH)]) }, 'quorum_not_met'],
  ['a reject with no audit record still stops it', { decisions: [approve('alice'), approve('bob'), { ...approve('carol'), verdict: 'reject' }], audit: auditFor([approve('alice'), approve('bob')]) }, 'rejected'],
];

describe('authorize(): the single gate of invariant 1', () => {
  it('allows when every condition holds, naming the approvers', () => {
    expect(authorize(BASE)).toEqual({ allowed: true, approvedBy: ['alice', 'bob'] });
  });

  it.each(ROWS)('denies when %s', (_name, change, reason) => {
    // Unless the row changes the audit trail, it holds exactly the row's decisions.
    const verdict = authorize({ ...BASE, audit: auditFor(change.decisions ?? BASE.decisions), ...change });
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed ? null : verdict.reason).toBe(reason);
    expect(verdict.allowed ? '' : verdict.detail).not.toBe('');
  });

  it('allows self-approval only where the policy allows it', () => {
    const input = { ...BASE, decisions: [approve('alice'), approve('erin')], audit: auditFor([approve('alice'), approve('erin')]) };
    expect(authorize(input).allowed).toBe(false);
    expect(authorize({ ...input, rules: { ...BASE.rules, selfApproval: 'allowed' } }).allowed).toBe(true);
  });
});

describe('authorize(): approval.executeWithin (issue 10, item 7)', () => {
  it('allows up to executeWithin after the quorum was met, and a run whose first step started continues past it', () => {
    // Quorum met at minute 1 (bob's approval); executeWithin 15 min.
    expect(authorize({ ...BASE, now: at(16) }).allowed).toBe(true);
    expect(authorize({ ...BASE, now: at(17), anyStepStarted: true }).allowed).toBe(true);
    const late = authorize({ ...BASE, now: at(16) + 1 as EpochMs });
    expect(late.allowed ? null : late.reason).toBe('approval_stale');
  });
});
