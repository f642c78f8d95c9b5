import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { authorize, type AuthorizeInput, type DenyReason } from '../../src/execute/authorize.js';
import type { ApprovalRequest, Decision } from '../../src/incident/incident.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';

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

/** Everything in order: the gate allows. Each row below changes exactly one thing. */
const BASE: AuthorizeInput = {
  now: at(5),
  state: 'approved',
  runbook: RB,
  request: REQUEST,
  decisions: [approve('alice'), approve('bob')],
  stepIndex: 0,
  rules: { eligible: new Set(['alice', 'bob', 'erin', 'carol']), selfApproval: 'forbidden' },
  actions: { 'codepipeline.rollback': { risk: 'medium', params: { pipeline: { required: true, pattern: '[a-z-]+' } } } },
  killSwitchOn: false,
  stepsLastHour: 0,
  maxActionsPerHour: 5,
};

const ROWS: [string, Partial<AuthorizeInput>, DenyReason][] = [
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
];

describe('authorize(): the single gate of invariant 1', () => {
  it('allows when every condition holds, naming the approvers', () => {
    expect(authorize(BASE)).toEqual({ allowed: true, approvedBy: ['alice', 'bob'] });
  });

  it.each(ROWS)('denies when %s', (_name, change, reason) => {
    const verdict = authorize({ ...BASE, ...change });
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed ? null : verdict.reason).toBe(reason);
    expect(verdict.allowed ? '' : verdict.detail).not.toBe('');
  });

  it('allows self-approval only where the policy allows it', () => {
    const input = { ...BASE, decisions: [approve('alice'), approve('erin')] };
    expect(authorize(input).allowed).toBe(false);
    expect(authorize({ ...input, rules: { ...BASE.rules, selfApproval: 'allowed' } }).allowed).toBe(true);
  });
});
