import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';
import { SIGNING_SECRET, SlackApiStub, blockActionsBody, click, postSigned } from '../helpers/slack-api-stub.js';

/**
 * The composition root wires the approval channels: the daemon, started from a policy with
 * `notify.slack`, posts its proposal to Slack (a local stand-in for the Web API), takes a signed button
 * click at /slack/actions, runs the runbook once and edits the Slack message to the final state.
 */

describe('the daemon with Slack configured', () => {
  const stub = new SlackApiStub();
  let daemon: Daemon;
  let demo: DemoDaemon;
  const until: DemoDaemon['until'] = (what, pred, ms) => demo.until(what, pred, ms);
  const saved = { ...process.env };

  beforeAll(async () => {
    await stub.start();
    Object.assign(process.env, { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET });
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false, slack: { channel: '#oncall', apiUrl: stub.url, teamId: 'T0TEST' } };
      doc.approvers.alice.slackUserId = 'UALICE001';
    });
    daemon = demo.daemon;
  });

  afterAll(async () => {
    await demo?.close();
    await stub.stop();
    process.env = saved;
  });

  it('posts the proposal with buttons, approves from a signed click, runs once and updates the message', async () => {
    const inc = await until('a proposal', (all) => all.find((i) => i.state === 'awaiting_approval'));
    const end = Date.now() + 10_000;
    while (stub.callsOf('chat.postMessage').length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const posted = stub.callsOf('chat.postMessage').find((c) => JSON.stringify(c.args).includes(inc.id));
    expect(posted?.token).toBe('xoxb-test-token');
    expect(JSON.stringify(posted?.args['blocks'])).toContain(`${inc.id}|${inc.runbook!.hash}`);

    // A click from another workspace decides nothing.
    const body = blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook!.hash, verdict: 'approve', userId: 'UALICE001' }).replaceAll('T0TEST', 'T0OTHER');
    const foreign = await postSigned(daemon.url, body);
    expect(foreign.status).toBeLessThan(500);
    expect((await daemon.store.listDecisions(inc.id)).length).toBe(0);

    const res = await click(daemon.url, { incidentId: inc.id, runbookHash: inc.runbook!.hash, verdict: 'approve', userId: 'UALICE001', teamId: 'T0TEST' } as never);
    expect(res.status).toBe(200);
    const done = await until('resolved', (all) => all.find((i) => i.id === inc.id && i.state === 'resolved'));
    expect(done.state).toBe('resolved');
    const decisions = await daemon.store.listDecisions(inc.id);
    expect(decisions.map((d) => [d.approver, d.channel])).toEqual([['alice', 'slack']]);
    const updates = stub.callsOf('chat.update');
    expect(updates.length).toBeGreaterThan(0);
    expect(JSON.stringify(updates.at(-1)?.args)).toMatch(/resolved|recovered|verified/i);
  });
});
