import { afterEach, describe, expect, it } from 'vitest';
import { APPROVE_ACTION, REJECT_ACTION, renderSlackMessage } from '../../src/approval/channels/slack-blocks.js';
import type { Notifier } from '../../src/cloud/ports.js';
import type { Incident } from '../../src/incident/incident.js';
import { decideOne } from '../../src/pipeline/decide.js';
import type { CycleContext } from '../../src/pipeline/context.js';
import { addMs } from '../../src/core/time.js';
import { MAX_ANNOUNCE_ATTEMPTS, PENDING_ANNOUNCEMENTS_KEY, retryFailedAnnouncements } from '../../src/pipeline/announce.js';
import { SLACK_IDS, click, slackWorld, type SlackCall, type SlackWorld } from '../helpers/slack-api-stub.js';

const worlds: SlackWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.close().catch(() => undefined);
    await w.stub.stop();
  }
});
async function world(o: Parameters<typeof slackWorld>[0] = {}): Promise<SlackWorld> {
  const w = await slackWorld(o);
  worlds.push(w);
  return w;
}
type Proposed = Incident & { runbook: NonNullable<Incident['runbook']>; approval: NonNullable<Incident['approval']> };
async function proposal(w: SlackWorld): Promise<Proposed> {
  const inc = (await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).find((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook || !inc.approval) throw new Error('no proposal');
  return inc as Proposed;
}
async function cycles(w: SlackWorld, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    w.h.clock.advance(w.h.policy.pollEveryMs);
    await w.watcher.runCycle();
  }
  await w.settle();
}
/** All the text a message shows (blocks flattened), for matching. */
const shown = (c: SlackCall | undefined): string => JSON.stringify(c?.args['blocks'] ?? []);
const buttons = (c: SlackCall | undefined): { action_id: string; value?: string; url?: string }[] =>
  ((c?.args['blocks'] as { type: string; elements?: { action_id: string; value?: string; url?: string }[] }[] | undefined) ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
const threadReplies = (w: SlackWorld): string[] => w.stub.callsOf('chat.postMessage').filter((c) => c.args['thread_ts']).map((c) => String(c.args['text']));

describe('Slack notifier (against a local stand-in for the Web API)', () => {
  it('posts the proposal with Block Kit: title, service, suspect and reasons, log evidence, steps with risk, quorum and expiry, link, and Approve/Reject carrying the incident id and runbook hash', async () => {
    const w = await world();
    const inc = await proposal(w);
    const posts = w.stub.callsOf('chat.postMessage');
    expect(posts).toHaveLength(1);
    const post = posts[0];
    expect(post?.token).toBe('xoxb-test-token');
    expect(post?.args['channel']).toBe('C0APPROVE');
    expect(String(post?.args['text'])).toMatch(/^\[checkout\] Approval needed: .* — approve or reject: http:\/\/127\.0\.0\.1:0\/incidents\//);
    const text = shown(post);
    expect(text).toContain('"type":"header"');
    expect(text).toContain('*Service* checkout');
    expect(text).toContain(`<http://127.0.0.1:0/incidents/${inc.id}|${inc.id}>`);
    expect(text).toContain('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(text).toContain('Switch the payment client to the v2 API');
    expect(text).toMatch(/Triggered by erin@example\.com/);
    expect(text).toMatch(/deploys checkout/);
    expect(text).toMatch(/\*new\* log pattern `[^`]*PaymentClientV2/);
    expect(text).toMatch(/1\. \*codepipeline\.rollback\* \(medium risk\)/);
    expect(text).toContain('7b1f0c2e-aaaa-4a39-9c61-0d5e2f1a0001');
    expect(text).toMatch(/\*Quorum\* 0 of 1 approval/);
    expect(text).toMatch(/\*Expires\* 2026-11-02 \d\d:\d\dZ \(60 min left\) — if nobody decides, nothing runs/);
    expect(text).toMatch(/May not approve \(triggered the suspect deployment\): erin/);
    const value = `${inc.id}|${inc.runbook.hash}`;
    expect(buttons(post)).toEqual([
      expect.objectContaining({ action_id: APPROVE_ACTION, value, style: 'primary', confirm: expect.any(Object) }),
      expect.objectContaining({ action_id: REJECT_ACTION, value, style: 'danger' }),
      expect.objectContaining({ action_id: 'cloudops_open', url: `http://127.0.0.1:0/incidents/${inc.id}` }),
    ]);
    // The message reference survives a restart: it is in the store.
    expect(await w.h.store.getValue(`slack.message.${inc.id}`)).toEqual({ channel: 'C0APPROVE', ts: '1700000000.000001' });
  });

  it('updates the same message with each decision and with every later state: approved, executed, verified; the buttons go once nothing is awaited', async () => {
    const w = await world({ quorum: 2 });
    const inc = await proposal(w);
    const base = { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve' as const };
    expect((await click(w.baseUrl, { ...base, userId: SLACK_IDS.alice })).json['outcome']).toBe('waiting');
    await w.settle();
    const afterAlice = w.stub.callsOf('chat.update');
    expect(afterAlice).toHaveLength(1);
    expect(afterAlice[0]?.args).toMatchObject({ channel: 'C0APPROVE', ts: '1700000000.000001' });
    expect(shown(afterAlice[0])).toMatch(/\*Quorum\* 1 of 2 approval\(s\) \(alice\)/);
    expect(shown(afterAlice[0])).toMatch(/alice approved via slack/);
    expect(buttons(afterAlice[0]).map((b) => b.action_id)).toContain(APPROVE_ACTION);

    expect((await click(w.baseUrl, { ...base, userId: SLACK_IDS.bob })).json['outcome']).toBe('approved');
    await w.settle();
    await w.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 60);
    await w.settle();
    const updates = w.stub.callsOf('chat.update');
    const states = updates.map((u) => /\*State\* ([^\\]*)/.exec(shown(u))?.[1]);
    expect(states).toEqual(expect.arrayContaining([':white_check_mark: approved — executing', ':gear: executed — verifying recovery', ':white_check_mark: executed and verified — resolved']));
    expect(updates.every((u) => u.args['ts'] === '1700000000.000001')).toBe(true);
    const last = updates.at(-1);
    expect(buttons(last).map((b) => b.action_id)).toEqual(['cloudops_open']);
    expect(threadReplies(w).at(-1)).toMatch(/executed and verified — resolved/);
    // One proposal message; every other post is a thread reply.
    expect(w.stub.callsOf('chat.postMessage').filter((c) => !c.args['thread_ts'])).toHaveLength(1);
    expect(w.h.sim.executeCalls()).toBe(1);
  });

  it('a step that fails updates the message to failed — a person must take over — and says so in the thread', async () => {
    const w = await world({ actions: (sim) => ({ execute: async () => ({ ok: false, summary: 'AccessDeniedException: not authorized' }), check: (c, k, sig) => sim.check(c, k, sig) }) });
    const inc = await proposal(w);
    expect((await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice })).json['outcome']).toBe('approved');
    await w.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'needs_human'), 10);
    await w.settle();
    const last = w.stub.callsOf('chat.update').at(-1);
    expect(shown(last)).toMatch(/\*State\* :sos: needs a person — automation stopped/);
    expect(shown(last)).toMatch(/step 1 failed: AccessDeniedException: not authorized/);
    expect(buttons(last).map((b) => b.action_id)).toEqual(['cloudops_open']);
    expect(threadReplies(w).at(-1)).toMatch(/failed at step 1/);
  });

  it('reminders are thread replies mentioning who may still approve; at the configured time the request escalates to the second group, who can then approve', async () => {
    // Medium risk needs one approval from on-call only; escalation after 40m adds the leads (carol).
    const w = await world({ edit: (doc) => void (doc.approval.quorum.medium.from = ['oncall']) });
    const inc = await proposal(w);
    const carol = { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve' as const, userId: SLACK_IDS.carol };
    expect((await click(w.baseUrl, carol)).json['error']).toMatch(/carol may not decide this request: not in the quorum for medium-risk runbooks/);

    await cycles(w, 19);
    expect(threadReplies(w)).toEqual([]);
    await cycles(w, 1); // 20 minutes: the reminder
    expect(threadReplies(w)).toHaveLength(1);
    expect(threadReplies(w)[0]).toMatch(/:bell: \[checkout\] reminder: approval needed, 0 of 1 so far, 40 min left — <@UALICE001> <@UBOB00001>$/);
    expect(w.stub.callsOf('chat.postMessage').filter((c) => c.args['thread_ts']).every((c) => c.args['thread_ts'] === '1700000000.000001')).toBe(true);

    await cycles(w, 19);
    expect(threadReplies(w)).toHaveLength(1);
    await cycles(w, 1); // 40 minutes: escalation to the leads
    expect(threadReplies(w)).toHaveLength(2);
    expect(threadReplies(w)[1]).toMatch(/escalated to carol: approval needed, 20 min left — .*<@UCAROL001>/);
    expect((await w.h.store.getIncident(inc.id))?.approval?.escalated).toBe(true);
    expect(shown(w.stub.callsOf('chat.update').at(-1))).toMatch(/may approve: .*carol/);

    expect((await click(w.baseUrl, carol)).json['outcome']).toBe('approved');
    await w.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 60);
    expect(w.h.sim.executeCalls()).toBe(1);
  });

  it('expiry is announced on every channel the request went to, and nothing runs', async () => {
    const w = await world();
    const inc = await proposal(w);
    expect(inc.approval.channels).toEqual(['web', 'cli', 'test', 'slack']);
    await w.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'expired'), 80);
    await w.settle();
    expect(w.h.notifier.sent.filter((a) => a.incidentId === inc.id && a.kind === 'final').map((a) => a.title)).toEqual(['[checkout] expired — not executed']);
    expect(shown(w.stub.callsOf('chat.update').at(-1))).toMatch(/expired — not executed/);
    expect(buttons(w.stub.callsOf('chat.update').at(-1)).map((b) => b.action_id)).toEqual(['cloudops_open']);
    expect(threadReplies(w).at(-1)).toMatch(/expired — not executed/);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('a short retry policy: an HTTP 500 is retried, a 429 with a short Retry-After is waited out once', async () => {
    const w = await world();
    w.stub.fail('chat.postMessage', { status: 500 }, { status: 429, retryAfter: 1 });
    const inc = await proposal(w);
    const posts = w.stub.callsOf('chat.postMessage');
    expect(posts).toHaveLength(3);
    expect(await w.h.store.getValue(`slack.message.${inc.id}`)).toEqual({ channel: 'C0APPROVE', ts: '1700000000.000001' });
    expect((await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'announce.failed')).toEqual([]);
  });

  it('gives up fast: a platform error is not retried, a long 429 is not waited out; both are audited and the next announcement posts the message anew', async () => {
    const w = await world({ quorum: 2 });
    w.stub.fail('chat.postMessage', { error: 'channel_not_found' });
    const inc = await proposal(w);
    expect(w.stub.callsOf('chat.postMessage')).toHaveLength(1);
    const failed = async (): Promise<unknown[]> => (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'announce.failed').map((a) => a.data);
    expect(await failed()).toEqual([expect.objectContaining({ channel: 'slack', kind: 'proposal', error: 'slack chat.postMessage: channel_not_found' })]);
    expect(await w.h.store.getValue(`slack.message.${inc.id}`)).toBeNull();

    w.stub.fail('chat.postMessage', { status: 429, retryAfter: 120 });
    const started = Date.now();
    await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    await w.settle();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await failed()).toEqual([expect.anything(), expect.objectContaining({ kind: 'decision', error: expect.stringMatching(/rate limited for 120 s/) })]);

    await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.bob });
    await w.settle();
    expect(await w.h.store.getValue(`slack.message.${inc.id}`)).toEqual({ channel: 'C0APPROVE', ts: expect.any(String) });
    expect(shown(w.stub.callsOf('chat.postMessage').at(-1))).toMatch(/approved — executing/);
  });

  it('a final state that failed to reach Slack is retried on later cycles until it does (and given up, audited, after the last attempt)', async () => {
    const w = await world();
    const inc = await proposal(w);
    const ctx = (): CycleContext => ({ now: w.h.clock.now(), deadline: addMs(w.h.clock.now(), 60_000), signal: new AbortController().signal });
    // The deadline passes; decideOne (as a cycle would run it, without the cycle's own retry) expires it.
    w.h.clock.set(inc.approval.expiresAt);
    w.stub.fail('chat.update', { error: 'internal_error' });
    const current = await w.h.store.getIncident(inc.id);
    if (!current) throw new Error('gone');
    expect(await decideOne(w.watcher.deps, ctx(), current)).toBe('expired');
    expect((await w.h.store.getIncident(inc.id))?.state).toBe('expired');
    expect(await w.h.store.getValue(PENDING_ANNOUNCEMENTS_KEY)).toEqual([{ incidentId: inc.id, channel: 'slack', title: 'expired — not executed', attempts: 1 }]);
    expect(threadReplies(w)).toEqual([]);

    w.stub.fail('chat.update', { error: 'internal_error' });
    expect(await retryFailedAnnouncements(w.watcher.deps, ctx())).toBe(1);
    expect(await retryFailedAnnouncements(w.watcher.deps, ctx())).toBe(0);
    expect(shown(w.stub.callsOf('chat.update').at(-1))).toMatch(/expired — not executed/);
    expect(threadReplies(w).at(-1)).toMatch(/expired — not executed/);
    const kinds = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).map((a) => a.kind);
    expect(kinds.filter((k) => k === 'announce.failed')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'announce.retried')).toHaveLength(1);

    // Slack down for good: given up after the last attempt, and audited.
    await w.h.store.setValue(PENDING_ANNOUNCEMENTS_KEY, [{ incidentId: inc.id, channel: 'slack', title: 'expired — not executed', attempts: MAX_ANNOUNCE_ATTEMPTS - 1 }]);
    w.stub.fail('chat.update', { error: 'account_inactive' });
    expect(await retryFailedAnnouncements(w.watcher.deps, ctx())).toBe(0);
    const abandoned = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'announce.abandoned');
    expect(abandoned.map((a) => a.data)).toEqual([{ channel: 'slack', attempts: MAX_ANNOUNCE_ATTEMPTS, error: 'slack chat.update: account_inactive' }]);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('a request that went to Slack, expiring after Slack was unconfigured, audits that the expiry could not reach it', async () => {
    const w = await world();
    const inc = await proposal(w);
    const notifiers = w.watcher.deps.notifiers as Notifier[];
    notifiers.splice(notifiers.indexOf(w.notifier), 1);
    await w.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'expired'), 80);
    const failed = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'announce.failed').map((a) => a.data);
    expect(failed).toEqual([{ channel: 'slack', kind: 'final', error: 'no notifier is configured for this channel any more' }]);
  });

  it('untrusted text (a commit message) cannot mention people, link elsewhere or break out of its span', async () => {
    const w = await world();
    const inc = await proposal(w);
    const evil = structuredClone<Proposed>(inc);
    const s = evil.correlation?.suspect;
    if (!s) throw new Error('no suspect');
    (s.deployment as { revisionSummary?: string }).revisionSummary = 'fix <!channel> see <https://evil.example|the docs> & `rm -rf` ``` `';
    (s.deployment as { triggeredBy?: string }).triggeredBy = '<@U0BOSS>';
    const msg = renderSlackMessage({ incident: evil, decisions: [], quorum: { approvedBy: [], needed: 1 }, eligible: ['alice'], url: 'http://x/incidents/1', now: inc.approval.requestedAt });
    const text = JSON.stringify(msg.blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example');
    expect(text).not.toContain('<@U0BOSS>');
    expect(text).toContain('fix &lt;!channel&gt; see &lt;https://evil.example|the docs&gt; &amp;');
    // The same incident, the same message: rendering is pure.
    expect(renderSlackMessage({ incident: evil, decisions: [], quorum: { approvedBy: [], needed: 1 }, eligible: ['alice'], url: 'http://x/incidents/1', now: inc.approval.requestedAt })).toEqual(msg);
  });
});
