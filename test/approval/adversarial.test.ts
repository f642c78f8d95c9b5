import { afterEach, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/approval/channels/slack-signature.js';
import type { Incident } from '../../src/incident/incident.js';
import { SIGNING_SECRET, SLACK_IDS, SlackApiStub, blockActionsBody, click, postSigned, slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';

/**
 * Adversarial approvals through Slack, on the simulated cloud with a manual clock. Each test ends by
 * running the pipeline on for a while and counting the actions the simulated cloud executed: zero,
 * or exactly one where the test says so.
 */

const worlds: SlackWorld[] = [];
const stubs: SlackApiStub[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close().catch(() => undefined);
  for (const s of stubs.splice(0)) await s.stop();
});

async function world(o: Parameters<typeof slackWorld>[0] = {}): Promise<SlackWorld> {
  const w = await slackWorld(o);
  worlds.push(w);
  if (!o.stub) stubs.push(w.stub);
  return w;
}

async function proposal(w: SlackWorld): Promise<Incident & { runbook: NonNullable<Incident['runbook']>; approval: NonNullable<Incident['approval']> }> {
  const incs = await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'));
  const inc = incs.find((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook || !inc.approval) throw new Error('no proposal');
  return inc as Incident & { runbook: NonNullable<Incident['runbook']>; approval: NonNullable<Incident['approval']> };
}

/** Runs `cycles` more poll cycles (by default past the 60 min TTL), so anything wrongly approved would have executed. */
async function runOn(w: SlackWorld, cycles = 70): Promise<void> {
  await w.settle();
  for (let i = 0; i < cycles; i++) {
    w.h.clock.advance(w.h.policy.pollEveryMs);
    await w.watcher.runCycle();
  }
  await w.settle();
}

const stateOf = async (w: SlackWorld, id: string): Promise<string | undefined> => (await w.h.store.getIncident(id))?.state;
const decisionsOf = (w: SlackWorld, id: string): Promise<unknown[]> => w.h.store.listDecisions(id);
const refusals = async (w: SlackWorld): Promise<Record<string, unknown>[]> => (await w.h.store.listAudit({ limit: 1000 })).filter((a) => a.kind === 'decision.refused').map((a) => ({ ...a.data, actor: a.actor, incidentId: a.incidentId }));

describe('adversarial Slack approvals end with nothing executed (or exactly once where stated)', () => {
  it('a forged signature is refused with 401, decides nothing and executes nothing', async () => {
    const w = await world();
    const inc = await proposal(w);
    const body = blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    const forged = await postSigned(w.baseUrl, body, { secret: 'not-the-signing-secret' });
    expect(forged.status).toBe(401);
    expect(forged.json['error']).toMatch(/not a valid Slack request \(bad_signature\)/);
    // A correct signature over another body does not carry over to this one.
    const other = blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'reject', userId: SLACK_IDS.alice });
    const ts = String(Math.floor(Date.now() / 1000));
    const swapped = await postSigned(w.baseUrl, body, { timestampSec: Number(ts), signature: slackSignature(SIGNING_SECRET, ts, other) });
    expect(swapped.status).toBe(401);
    const missing = await fetch(`${w.baseUrl}/slack/actions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(missing.status).toBe(401);
    expect(await decisionsOf(w, inc.id)).toEqual([]);
    await runOn(w);
    expect(await stateOf(w, inc.id)).toBe('expired');
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('a stale timestamp (a replayed, correctly signed click) is refused with 401 and executes nothing', async () => {
    const w = await world();
    const inc = await proposal(w);
    const old = Math.floor(Date.now() / 1000) - 5 * 60 - 30;
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice, timestampSec: old });
    expect(res.status).toBe(401);
    expect(res.json['error']).toMatch(/stale_timestamp/);
    const future = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice, timestampSec: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);
    expect(await decisionsOf(w, inc.id)).toEqual([]);
    await runOn(w);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('an unknown Slack user is refused, the refusal is audited, nothing is decided or executed', async () => {
    const w = await world();
    const inc = await proposal(w);
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: 'UMALLORY1' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: false, error: 'Slack user UMALLORY1 is not an approver in the policy' });
    await w.settle();
    expect(await decisionsOf(w, inc.id)).toEqual([]);
    expect(await refusals(w)).toEqual([expect.objectContaining({ incidentId: inc.id, actor: 'slack:UMALLORY1', slackUserId: 'UMALLORY1', verdict: 'approve', why: expect.stringMatching(/not an approver/) })]);
    // The person is told, privately.
    expect(w.stub.callsOf('chat.postEphemeral').map((c) => c.args)).toEqual([expect.objectContaining({ user: 'UMALLORY1', channel: 'C0APPROVE', text: expect.stringMatching(/Not recorded: .*not an approver/) })]);
    await runOn(w);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('the person who triggered the suspect deployment may not approve its fix: refused, audited, nothing executed', async () => {
    const w = await world();
    const inc = await proposal(w);
    expect(inc.approval.excludedApprovers).toEqual(['erin']);
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.erin });
    expect(res.status).toBe(200);
    expect(res.json['error']).toMatch(/erin may not decide this request: they triggered the suspect deployment/);
    expect(await decisionsOf(w, inc.id)).toEqual([]);
    expect(await refusals(w)).toEqual([expect.objectContaining({ actor: 'erin', status: 403 })]);
    await runOn(w);
    expect(await stateOf(w, inc.id)).toBe('expired');
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('an approval after the request expired is refused and nothing executes', async () => {
    const w = await world();
    const inc = await proposal(w);
    // Past the deadline, before any cycle noticed: the click itself must be refused.
    w.h.clock.set(inc.approval.expiresAt);
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(res.json['error']).toMatch(/has expired; nothing will run/);
    expect(await decisionsOf(w, inc.id)).toEqual([]);
    // And after the watcher marked it expired.
    await runOn(w, 2);
    expect(await stateOf(w, inc.id)).toBe('expired');
    const again = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.bob });
    expect(again.json['error']).toMatch(/is expired, not awaiting approval/);
    await runOn(w);
    expect(w.h.sim.executeCalls()).toBe(0);
    // The expiry was announced in Slack: the message was updated to the final state, and a thread reply.
    const last = w.stub.callsOf('chat.update').at(-1);
    expect(JSON.stringify(last?.args['blocks'])).toMatch(/expired — not executed/);
    expect(w.stub.callsOf('chat.postMessage').some((c) => c.args['thread_ts'] && /expired — not executed/.test(String(c.args['text'])))).toBe(true);
  });

  it('an approval arriving while the daemon restarts is refused with 503 and not lost silently; retried after the restart it runs exactly once', async () => {
    const stub = await new SlackApiStub().start();
    stubs.push(stub);
    const w1 = await world({ stub });
    const inc = await proposal(w1);
    // The daemon is going down: the store is closed while the HTTP server still answers.
    await w1.watcher.drain();
    await w1.h.store.close();
    const during = await click(w1.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(during.status).toBe(503);
    expect(during.json['error']).toMatch(/could not be recorded; nothing was decided/);
    await w1.slack.idle();
    expect(stub.callsOf('chat.postEphemeral').at(-1)?.args['text']).toMatch(/could not be recorded/);
    await w1.close();

    // The daemon comes back on the same data directory and the same point of virtual time.
    const w2 = await world({ stub, dataDir: w1.h.dataDir });
    w2.h.clock.set(w1.h.clock.now());
    expect(await stateOf(w2, inc.id)).toBe('awaiting_approval');
    expect(await decisionsOf(w2, inc.id)).toEqual([]);
    await w2.watcher.runCycle();
    expect(w2.h.sim.executeCalls()).toBe(0);

    const retried = await click(w2.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(retried).toMatchObject({ status: 200, json: { ok: true, outcome: 'approved' } });
    await runOn(w2);
    expect(await stateOf(w2, inc.id)).toBe('resolved');
    expect(w2.h.sim.executeCalls()).toBe(1);
  });

  it('a double click (same user twice) counts once: with a quorum of two nothing executes', async () => {
    const w = await world({ quorum: 2 });
    const inc = await proposal(w);
    const c = { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve' as const, userId: SLACK_IDS.alice };
    const [a, b] = await Promise.all([click(w.baseUrl, c), click(w.baseUrl, c)]);
    expect([a.json['ok'], b.json['ok']].sort()).toEqual([false, true]);
    expect([a.json['error'], b.json['error']].filter(Boolean)).toEqual(['alice already decided (approve)']);
    expect(await decisionsOf(w, inc.id)).toHaveLength(1);
    const third = await click(w.baseUrl, c);
    expect(third.json['error']).toBe('alice already decided (approve)');
    await runOn(w);
    expect(await stateOf(w, inc.id)).toBe('expired');
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('two approvals racing to reach a quorum of two execute the runbook exactly once', async () => {
    const w = await world({ quorum: 2 });
    const inc = await proposal(w);
    const base = { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve' as const };
    const results = await Promise.all([click(w.baseUrl, { ...base, userId: SLACK_IDS.alice }), click(w.baseUrl, { ...base, userId: SLACK_IDS.bob })]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results.map((r) => r.json['outcome']).sort()).toEqual(['approved', 'waiting']);
    await runOn(w, 40);
    expect(await stateOf(w, inc.id)).toBe('resolved');
    expect(w.h.sim.executeCalls()).toBe(1);
    const transitions = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'incident.transition' && a.data['to'] === 'approved');
    expect(transitions).toHaveLength(1);
  });

  it('a reject racing an approve (quorum of two) ends the request: rejected, nothing executed', async () => {
    const w = await world({ quorum: 2 });
    const inc = await proposal(w);
    const base = { incidentId: inc.id, runbookHash: inc.runbook.hash };
    await Promise.all([click(w.baseUrl, { ...base, verdict: 'approve', userId: SLACK_IDS.alice }), click(w.baseUrl, { ...base, verdict: 'reject', userId: SLACK_IDS.bob })]);
    // A late approval that would have met the quorum changes nothing.
    const late = await click(w.baseUrl, { ...base, verdict: 'approve', userId: SLACK_IDS.carol });
    expect(late.json['error']).toMatch(/is rejected, not awaiting approval/);
    await runOn(w);
    expect(await stateOf(w, inc.id)).toBe('rejected');
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('a reject racing the approval that meets the quorum: exactly one of them wins — rejected runs nothing, approved runs exactly once', async () => {
    const w = await world({ quorum: 2 });
    const inc = await proposal(w);
    const base = { incidentId: inc.id, runbookHash: inc.runbook.hash };
    const first = await click(w.baseUrl, { ...base, verdict: 'approve', userId: SLACK_IDS.carol });
    expect(first.json['outcome']).toBe('waiting');
    const [approve, reject] = await Promise.all([click(w.baseUrl, { ...base, verdict: 'approve', userId: SLACK_IDS.alice }), click(w.baseUrl, { ...base, verdict: 'reject', userId: SLACK_IDS.bob })]);
    await runOn(w, 40);
    const state = await stateOf(w, inc.id);
    if (approve.json['outcome'] === 'approved') {
      expect(reject.json['error']).toMatch(/not awaiting approval/);
      expect(state).toBe('resolved');
      expect(w.h.sim.executeCalls()).toBe(1);
    } else {
      expect(reject.json['outcome']).toBe('rejected');
      expect(approve.json['error']).toMatch(/is rejected, not awaiting approval/);
      expect(state).toBe('rejected');
      expect(w.h.sim.executeCalls()).toBe(0);
    }
  });
});
