import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { Incident } from '../../src/incident/incident.js';
import { SlackApiStub } from '../helpers/slack-api-stub.js';
import { SlackSocketStub, blockActionsPayload } from '../helpers/slack-socket-stub.js';

/**
 * The composition root wires Socket Mode: clicks arrive over the WebSocket (a local stand-in), not at /slack/actions.
 * `notify.slack`, posts its proposal to Slack (a local stand-in for the Web API), takes a signed button
 * click at /slack/actions, runs the runbook once and edits the Slack message to the final state.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('the daemon with Slack in Socket Mode (no public URL)', () => {
  const stub = new SlackApiStub();
  let sock: SlackSocketStub;
  let daemon: Daemon;
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    await stub.start();
    sock = await new SlackSocketStub(stub.url).start();
    dir = mkdtempSync(join(tmpdir(), 'cloudops-channels-'));
    const doc = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, any>;
    doc.cloud.scenario = join(ROOT, 'config', 'scenarios', 'demo.yaml');
    doc.cloud.speed = 600;
    doc.runbooks.dir = join(ROOT, 'runbooks');
    doc.server.port = 0;
    doc.notify = { console: false, slack: { channel: '#oncall', apiUrl: sock.url, teamId: 'T0TEST', socketMode: true } };
    doc.approvers.alice.slackUserId = 'UALICE001';
    writeFileSync(join(dir, 'policy.yaml'), stringify(doc));
    delete process.env['SLACK_SIGNING_SECRET'];
    Object.assign(process.env, { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_APP_TOKEN: 'xapp-1-A0TEST-1-abc' });
    daemon = await startDaemon({ policyFile: join(dir, 'policy.yaml'), dataDir: dir, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await daemon?.stop();
    await sock.stop();
    await stub.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function until(what: string, pred: (incs: Incident[]) => Incident | undefined, ms = 30_000): Promise<Incident> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const hit = pred(await daemon.store.listIncidents({}));
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

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
