import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';
import { SlackApiStub } from '../helpers/slack-api-stub.js';
import { SlackSocketStub, blockActionsPayload } from '../helpers/slack-socket-stub.js';

/**
 * The composition root wires Socket Mode: the daemon posts its proposal to Slack (a local stand-in for
 * the Web API), takes the button click over the WebSocket (a local stand-in) rather than at
 * /slack/actions, runs the runbook once, edits the Slack message to the final state, and closes the
 * socket on stop.
 */

describe('the daemon with Slack in Socket Mode (no public URL)', () => {
  const stub = new SlackApiStub();
  let sock: SlackSocketStub;
  let daemon: Daemon;
  let demo: DemoDaemon;
  const until: DemoDaemon['until'] = (what, pred, ms) => demo.until(what, pred, ms);
  const saved = { ...process.env };

  beforeAll(async () => {
    await stub.start();
    sock = await new SlackSocketStub(stub.url).start();
    delete process.env['SLACK_SIGNING_SECRET'];
    Object.assign(process.env, { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_APP_TOKEN: 'xapp-1-A0TEST-1-abc' });
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false, slack: { channel: '#oncall', apiUrl: sock.url, teamId: 'T0TEST', socketMode: true } };
      doc.approvers.alice.slackUserId = 'UALICE001';
    });
    daemon = demo.daemon;
  });

  afterAll(async () => {
    await demo?.close();
    await sock.stop();
    await stub.stop();
    process.env = saved;
  });

  it('connects with the app token, has no /slack/actions route, refuses a foreign workspace, approves from a click over the socket, runs once, and closes the socket on stop', async () => {
    const inc = await until('a proposal', (all) => all.find((i) => i.state === 'awaiting_approval'));
    const end = Date.now() + 10_000;
    while (stub.callsOf('chat.postMessage').length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const posted = stub.callsOf('chat.postMessage').find((c) => JSON.stringify(c.args).includes(inc.id));
    expect(posted?.token).toBe('xoxb-test-token');
    expect(JSON.stringify(posted?.args['blocks'])).toContain(`${inc.id}|${inc.runbook!.hash}`);

    expect(sock.opens).toEqual([{ token: 'xapp-1-A0TEST-1-abc' }]);
    expect((await fetch(`${daemon.url}/slack/actions`, { method: 'POST' })).status).toBe(404); // no HTTP route in Socket Mode
    const foreign = await sock.send({ type: 'interactive', payload: JSON.parse(JSON.stringify(blockActionsPayload({ incidentId: inc.id, runbookHash: inc.runbook!.hash, verdict: 'approve', userId: 'UALICE001' })).replaceAll('T0TEST', 'T0OTHER')) });
    expect(foreign.ack['envelope_id']).toBe(foreign.envelopeId);
    expect((await daemon.store.listDecisions(inc.id)).length).toBe(0);
    const res = await sock.click({ incidentId: inc.id, runbookHash: inc.runbook!.hash, verdict: 'approve', userId: 'UALICE001' });
    expect(res.ack['envelope_id']).toBe(res.envelopeId);
    const done = await until('resolved', (all) => all.find((i) => i.id === inc.id && i.state === 'resolved'));
    expect(done.state).toBe('resolved');
    const decisions = await daemon.store.listDecisions(inc.id);
    expect(decisions.map((d) => [d.approver, d.channel])).toEqual([['alice', 'slack']]);
    const updates = stub.callsOf('chat.update');
    expect(updates.length).toBeGreaterThan(0);
    expect(JSON.stringify(updates.at(-1)?.args)).toMatch(/resolved|recovered|verified/i);
    await daemon.stop();
    await sock.until(() => sock.open === 0);
    expect(sock.closes).toBe(1);
  });
});
