import { describe, expect, it } from 'vitest';
import { evaluateQuorum, selfApprovers } from '../../src/approval/quorum.js';
import type { EpochMs } from '../../src/core/time.js';
import type { ApprovalRequest, Decision } from '../../src/incident/incident.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';

/**
 * Issue 10, item 9: a webhook-triggered deployment used to exclude nobody, so its author could approve
 * the rollback of their own change. The commit author is matched too.
 */

const APPROVERS = {
  alice: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
  erin: { email: 'erin@example.com', displayName: 'Erin Example', authorIds: ['erin-gh', 'erin.personal@users.noreply.github.com'] },
  bob: { email: 'bob@example.com' },
};

const ROWS: [string, { triggeredBy?: string; author?: string }, string[]][] = [
  ['a webhook trigger and no author: nobody (as before)', { triggeredBy: 'webhook' }, []],
  ['a webhook trigger, the author by email', { triggeredBy: 'webhook', author: 'erin@example.com' }, ['erin']],
  ['the author in git form, "Name <email>"', { triggeredBy: 'webhook', author: 'Erin Example <ERIN@example.com>' }, ['erin']],
  ['the author by a mapped login', { author: 'erin-gh' }, ['erin']],
  ['the author by a mapped second email', { author: 'erin.personal@users.noreply.github.com' }, ['erin']],
  ['triggered by one person, written by another: both', { triggeredBy: 'arn:aws:iam::123456789012:user/alice', author: 'erin-gh' }, ['alice', 'erin']],
  ['an author no approver maps to', { author: 'mallory@evil.example' }, []],
  ['an empty author matches nobody', { author: '  ' }, []],
];

describe('selfApprovers: who triggered the suspect deployment and who wrote it', () => {
  it.each(ROWS)('%s', (_name, deployment, want) => {
    expect(selfApprovers(APPROVERS, deployment)).toEqual(want);
  });

  it('the excluded author\'s approval does not count toward the quorum', () => {
    const excluded = selfApprovers(APPROVERS, { triggeredBy: 'webhook', author: 'erin-gh' });
    const request: ApprovalRequest = { runbookHash: 'sha256:x', requestedAt: 0 as EpochMs, expiresAt: 100 as EpochMs, requiredApprovals: 1, excludedApprovers: excluded, channels: [], remindersSent: 0, escalated: false };
    const d: Decision = { incidentId: 'i', approver: 'erin', verdict: 'approve', runbookHash: 'sha256:x', at: 1 as EpochMs, channel: 'web', identity: 'token:erin' };
    const q = evaluateQuorum(request, [d], { eligible: new Set(['alice', 'erin', 'bob']), selfApproval: 'forbidden', needed: 1 });
    expect(q.met).toBe(false);
    expect(q.ignored[0]?.why).toMatch(/erin triggered the suspect deployment/);
  });

  it('a compiled policy carries an approver\'s authorIds', () => {
    const { policy } = loadPolicyFile('config/demo.yaml');
    const doc = { ...policy, approvers: { ...policy.approvers, alice: { ...policy.approvers['alice'], authorIds: ['alice-gh'] } } };
    expect(compilePolicy(doc, 'test').doc.approvers['alice']?.authorIds).toEqual(['alice-gh']);
  });
});
