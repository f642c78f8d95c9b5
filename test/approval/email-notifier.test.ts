import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEmailLinkToken } from '../../src/approval/email-link.js';
import { EmailNotifier, emailMessagesFor, snsEmailPublisher, type EmailMessage } from '../../src/approval/email-notifier.js';
import type { Announcement } from '../../src/cloud/ports.js';
import type { Incident } from '../../src/incident/incident.js';
import { approvalServer, LINK_SECRET, type ApprovalServer } from '../server/approval-server.js';

let s: ApprovalServer;
let inc: Incident;
beforeAll(async () => {
  s = await approvalServer();
  inc = await s.awaiting();
});
afterAll(async () => {
  await s.close();
});

const proposal = (i: Incident): Announcement => ({ kind: 'proposal', incidentId: i.id, title: `[${i.service}] runbook awaiting approval`, text: i.reason, url: `https://ops.example.com/incidents/${i.id}`, state: i.state });
const opts = () => ({ secret: LINK_SECRET, publicUrl: 'https://ops.example.com', now: s.h.clock.now() });

describe('approval emails', () => {
  it('one email per eligible approver, each with their own signed link for this incident and runbook hash', () => {
    const msgs = emailMessagesFor(proposal(inc), inc, s.h.policy, opts());
    expect(msgs.map((m) => [m.approver, m.email])).toEqual([
      ['alice', 'alice@example.com'],
      ['bob', 'bob@example.com'],
      ['carol', 'carol@example.com'],
    ]);
    for (const m of msgs) {
      if (!m.link) throw new Error(`no link for ${m.approver}`);
      const url = new URL(m.link);
      expect(url.origin + url.pathname).toBe(`https://ops.example.com/email/${encodeURIComponent(inc.id)}`);
      const claims = verifyEmailLinkToken(LINK_SECRET, url.searchParams.get('t'), { incidentId: inc.id, now: s.h.clock.now() });
      expect(claims).toMatchObject({ ap: m.approver, rh: inc.runbook?.hash, exp: inc.approval?.expiresAt });
      expect(m.attributes).toMatchObject({ approver: m.approver, kind: 'proposal', incidentId: inc.id });
      // The text: summary, suspect, each action with its parameters, the deadline, the link, the page.
      expect(m.text).toContain(inc.reason);
      expect(m.text).toContain(`Suspect deployment: checkout-deploy execution ${inc.correlation?.suspect?.deployment.id}`);
      expect(m.text).toMatch(/1\. codepipeline\.rollback pipeline=checkout-deploy/);
      expect(m.text).toContain('if nobody decides, nothing runs');
      expect(m.text).toContain('opening this link decides nothing');
      expect(m.text).toContain(m.link);
      expect(m.text).toContain(`Incident page: https://ops.example.com/incidents/${inc.id}`);
      expect(m.subject).toMatch(/^[\x20-\x7e]{1,99}$/);
    }
    // Different people, different tokens.
    expect(new Set(msgs.map((m) => m.link)).size).toBe(3);
  });

  it('no link for who may not approve (self-approval), for news (decision/final), or after expiry', () => {
    const excluded: Incident = { ...inc, approval: inc.approval ? { ...inc.approval, excludedApprovers: ['bob'] } : null };
    const msgs = emailMessagesFor(proposal(excluded), excluded, s.h.policy, opts());
    const bob = msgs.find((m) => m.approver === 'bob');
    expect(bob?.link).toBeNull();
    expect(bob?.text).toMatch(/your approval does not count/);
    expect(bob?.text).not.toContain('/email/');
    for (const kind of ['decision', 'final'] as const) {
      for (const m of emailMessagesFor({ ...proposal(inc), kind }, inc, s.h.policy, opts())) expect(m.link).toBeNull();
    }
    const late = emailMessagesFor(proposal(inc), inc, s.h.policy, { ...opts(), now: (inc.approval?.expiresAt ?? 0) + 1 });
    expect(late.every((m) => m.link === null)).toBe(true);
    const resolved: Incident = { ...inc, state: 'resolved' };
    expect(emailMessagesFor(proposal(resolved), resolved, s.h.policy, opts()).every((m) => m.link === null)).toBe(true);
  });

  it('log and commit text cannot break the email apart (control characters and line breaks flattened)', () => {
    const sus = inc.correlation?.suspect;
    if (!sus || !inc.correlation) throw new Error('no suspect');
    const evil: Incident = { ...inc, correlation: { ...inc.correlation, suspect: { ...sus, deployment: { ...sus.deployment, revisionSummary: 'fix\r\n\r\nApprove here: https://evil.example/\u0007' } } } };
    const [m] = emailMessagesFor(proposal(evil), evil, s.h.policy, opts());
    const line = m?.text.split('\n').find((l) => l.startsWith('Suspect deployment'));
    expect(line).toContain('fix Approve here: https://evil.example/');
    expect(line).not.toContain('\u0007');
    // A huge announcement text is capped; the link still ends the email.
    const [big] = emailMessagesFor({ ...proposal(inc), text: 'x'.repeat(300_000) }, inc, s.h.policy, opts());
    expect(big?.text.length).toBeLessThan(10_000);
    expect(big?.text).toContain(big?.link ?? 'no link');
  });

  it('EmailNotifier publishes each message, and reports which approvers failed', async () => {
    const sent: EmailMessage[] = [];
    let fail = false;
    const n = new EmailNotifier({
      policy: s.h.policy,
      secret: LINK_SECRET,
      publicUrl: () => 'https://ops.example.com',
      publish: async (m) => {
        if (fail && m.approver === 'bob') throw new Error('throttled');
        sent.push(m);
      },
    });
    // Built before the store exists (as the daemon does), it refuses to send until attached.
    await expect(n.announce(proposal(inc), AbortSignal.timeout(5000))).rejects.toThrow(/not attached/);
    n.attach(s.h.store, s.h.clock);
    await n.announce(proposal(inc), AbortSignal.timeout(5000));
    expect(sent.map((m) => m.approver)).toEqual(['alice', 'bob', 'carol']);
    fail = true;
    await expect(n.announce(proposal(inc), AbortSignal.timeout(5000))).rejects.toThrow(/email to 1 of 3 approvers failed: bob: throttled/);
    expect(sent).toHaveLength(5);
    expect(() => new EmailNotifier({ policy: s.h.policy, secret: 'short', publicUrl: () => '', publish: async () => undefined })).toThrow(/at least 32 bytes/);
  });

  it('snsEmailPublisher sends Subject, text and the approver attribute a subscription filter policy matches', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });
    const publish = snsEmailPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:123456789012:approvals');
    const [m] = emailMessagesFor(proposal(inc), inc, s.h.policy, opts());
    if (!m) throw new Error('no message');
    await publish(m, AbortSignal.timeout(5000));
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:approvals', Subject: m.subject, Message: m.text, MessageAttributes: { approver: { DataType: 'String', StringValue: 'alice' } } });
    sns.restore();
  });
});
