import { describe, expect, it } from 'vitest';
import { evaluateQuorum, isExpired, type ApprovalRules } from '../../src/approval/quorum.js';
import type { EpochMs } from '../../src/core/time.js';
import type { ApprovalRequest, Decision } from '../../src/incident/incident.js';
import { approvalRules, compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';

const T0 = 1_800_000_000_000;
const at = (min: number): EpochMs => (T0 + min * 60_000) as EpochMs;
const H1 = `sha256:${'1'.repeat(64)}`;
const H2 = `sha256:${'2'.repeat(64)}`;
const request = (o: Partial<ApprovalRequest> = {}): ApprovalRequest => ({ runbookHash: H1, requestedAt: at(0), expiresAt: at(15), requiredApprovals: 2, excludedApprovers: ['erin'], channels: ['web', 'slack'], remindersSent: 0, escalated: false, ...o });
const d = (approver: string, verdict: 'approve' | 'reject' = 'approve', min = 1, hash = H1): Decision => ({ incidentId: 'i', approver, verdict, runbookHash: hash, at: at(min), channel: 'slack', identity: `slack:${approver}` });
const RULES: ApprovalRules = { eligible: new Set(['alice', 'bob', 'carol', 'erin']), selfApproval: 'forbidden', needed: 2 };

describe('evaluateQuorum: who counts', () => {
  it('needs the required number of distinct approvers; the same person twice counts once', () => {
    expect(evaluateQuorum(request(), [d('alice')], RULES)).toMatchObject({ approvedBy: ['alice'], needed: 2, met: false });
    const twice = evaluateQuorum(request(), [d('alice', 'approve', 1), d('alice', 'approve', 2)], RULES);
    expect(twice).toMatchObject({ approvedBy: ['alice'], met: false });
    expect(twice.ignored.map((i) => i.why)).toEqual(['alice already decided']);
    expect(evaluateQuorum(request(), [d('alice'), d('bob', 'approve', 2)], RULES)).toMatchObject({ approvedBy: ['alice', 'bob'], met: true, rejectedBy: null });
  });

  it('does not count the person who triggered the suspect deployment where self-approval is forbidden, and does where it is allowed', () => {
    const q = evaluateQuorum(request(), [d('alice'), d('erin', 'approve', 2)], RULES);
    expect(q).toMatchObject({ approvedBy: ['alice'], met: false });
    expect(q.ignored[0]?.why).toBe('erin triggered the suspect deployment and may not approve its fix');
    expect(evaluateQuorum(request(), [d('alice'), d('erin', 'approve', 2)], { ...RULES, selfApproval: 'allowed' })).toMatchObject({ approvedBy: ['alice', 'erin'], met: true });
  });

  it('lets the person who triggered the deployment reject its fix (stopping is always allowed)', () => {
    expect(evaluateQuorum(request(), [d('alice'), d('bob'), d('erin', 'reject', 2)], RULES).rejectedBy?.approver).toBe('erin');
  });

  it('any authorized reject ends the request, even after the quorum was reached; an unauthorized one does not', () => {
    const q = evaluateQuorum(request(), [d('alice'), d('bob'), d('carol', 'reject', 3)], RULES);
    expect(q).toMatchObject({ met: false, rejectedBy: { approver: 'carol' } });
    const mallory = evaluateQuorum(request(), [d('alice'), d('bob'), d('mallory', 'reject', 3)], RULES);
    expect(mallory).toMatchObject({ met: true, rejectedBy: null });
    expect(mallory.ignored[0]?.why).toBe('mallory is not an approver for this risk level');
  });

  it('a new runbook version voids the decisions on the older one', () => {
    const q = evaluateQuorum(request({ runbookHash: H2 }), [d('alice', 'approve', 1, H1), d('bob', 'approve', 2, H1), d('carol', 'reject', 3, H1)], RULES);
    expect(q).toMatchObject({ approvedBy: [], met: false, rejectedBy: null });
    expect(q.ignored.map((i) => i.why)).toEqual(['names another runbook version', 'names another runbook version', 'names another runbook version']);
    expect(evaluateQuorum(request({ runbookHash: H2 }), [d('alice', 'approve', 1, H1), d('alice', 'approve', 4, H2), d('bob', 'approve', 5, H2)], RULES)).toMatchObject({ approvedBy: ['alice', 'bob'], met: true });
  });

  it('only decisions given between the request and its deadline count; the deadline itself is too late', () => {
    const q = evaluateQuorum(request(), [d('alice', 'approve', -1), d('bob', 'approve', 15), d('carol', 'approve', 14)], RULES);
    expect(q).toMatchObject({ approvedBy: ['carol'], met: false });
    expect(q.ignored.map((i) => [i.decision.approver, i.why])).toEqual([
      ['alice', 'predates the request'],
      ['bob', 'arrived after the request expired'],
    ]);
    expect(isExpired(request(), at(15))).toBe(true);
    expect(isExpired(request(), (at(15) - 1) as EpochMs)).toBe(false);
  });

  it('silence is not consent: no decisions, no quorum, whatever the time', () => {
    expect(evaluateQuorum(request({ requiredApprovals: 1 }), [], RULES)).toMatchObject({ approvedBy: [], met: false, rejectedBy: null });
  });

  it('counts in time order, whatever order the store returned them in', () => {
    const q = evaluateQuorum(request(), [d('alice', 'approve', 5), d('alice', 'reject', 2)], RULES);
    expect(q.rejectedBy?.at).toBe(at(2));
    expect(q.approvedBy).toEqual([]);
  });
});

describe('approvalRules from the policy: quorum per risk level, escalation', () => {
  const edit = loadPolicyFile('config/demo.yaml').policy;
  edit.approval.quorum.low = { approvals: 1, from: ['oncall'] };
  edit.approval.quorum.medium = { approvals: 1, from: ['oncall', 'leads'] };
  edit.approval.quorum.high = { approvals: 2, from: ['leads', 'alice'] };
  const policy = compilePolicy(edit, 'config/demo.yaml');

  it('each risk level names its own approvals and approvers', () => {
    expect(policy.quorum.low.approvals).toBe(1);
    expect(policy.quorum.high.approvals).toBe(2);
    expect([...approvalRules(policy, 'low', false).eligible].sort()).toEqual(['alice', 'bob']);
    expect([...approvalRules(policy, 'medium', false).eligible].sort()).toEqual(['alice', 'bob', 'carol']);
    expect([...approvalRules(policy, 'high', false).eligible].sort()).toEqual(['alice', 'carol']);
    expect(approvalRules(policy, 'high', false).selfApproval).toBe('forbidden');
  });

  it('escalation widens who may approve to the second group once it fired', () => {
    expect(approvalRules(policy, 'low', false).eligible.has('carol')).toBe(false);
    expect([...approvalRules(policy, 'low', true).eligible].sort()).toEqual(['alice', 'bob', 'carol']);
    const req = request({ requiredApprovals: 1 });
    expect(evaluateQuorum(req, [d('carol')], approvalRules(policy, 'low', false)).met).toBe(false);
    expect(evaluateQuorum(req, [d('carol')], approvalRules(policy, 'low', true)).met).toBe(true);
  });
});
