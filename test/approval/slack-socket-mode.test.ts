import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackSocketMode } from '../../src/approval/channels/slack-socket-mode.js';
import type { Incident } from '../../src/incident/incident.js';
import { compilePolicy } from '../../src/policy/compile.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { slackFromPolicy, type SlackConnection } from '../../src/server/slack-routes.js';
import { SLACK_IDS, SlackApiStub, slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';
import { SlackSocketStub, blockActionsPayload } from '../helpers/slack-socket-stub.js';

const APP_TOKEN = 'xapp-1-A0TEST-1-0123456789abcdef';
const ENV = { SLACK_BOT_TOKEN: 'xoxb-from-env', SLACK_APP_TOKEN: APP_TOKEN };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A pino logger that keeps its lines, to check what the SDK and the channel logged. */
function capture(): { logger: Logger; lines: { level: number; msg: string; stage?: string }[] } {
  const lines: { level: number; msg: string; stage?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { level: number; msg: string; stage?: string });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

type Proposed = Incident & { runbook: NonNullable<Incident['runbook']> };

/**
 * The Slack world with `notify.slack.socketMode: true` and its apiUrl on the Socket Mode stub (which
 * forwards chat.* to the Web API stub), a proposal awaiting approval, and the channel built by
 * slackFromPolicy as the daemon builds it.
 */
async function socketWorld(o: { logger?: Logger; edit?: (doc: PolicyDoc) => void } = {}): Promise<{ w: SlackWorld; sock: SlackSocketStub; inc: Proposed; conn: SlackConnection }> {
  const api = await new SlackApiStub().start();
  cleanups.push(() => api.stop());
  const sock = await new SlackSocketStub(api.url).start();
  cleanups.push(() => sock.stop());
  const w = await slackWorld({
    stub: api,
    edit: (doc) => {
      if (doc.notify.slack) Object.assign(doc.notify.slack, { socketMode: true, apiUrl: sock.url });
      o.edit?.(doc);
    },
  });
  cleanups.push(() => w.close());
  const inc = (await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).find((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook) throw new Error('no proposal');
  const ch = slackFromPolicy(w.h.policy, { logger: o.logger ?? pino({ level: 'silent' }), env: ENV });
  if (!ch) throw new Error('no slack');
  expect(ch.mode).toBe('socket');
  const conn = ch.actions({ decide: (req) => w.watcher.decide(req), store: w.h.store, clock: w.h.clock });
  cleanups.unshift(() => conn.stop()); // stopped before the stubs and the store go
  return { w, sock, inc: inc as Proposed, conn };
}

describe('Slack Socket Mode: clicks over the WebSocket take the same decision path as POST /slack/actions', () => {
  it('an Approve click records the decision for the mapped approver, is acknowledged, and the person is told', async () => {
    const { logger, lines } = capture();
    const { w, sock, inc, conn } = await socketWorld({ logger });
    expect(conn.route).toBeNull();
    await conn.start();
    expect(sock.opens).toEqual([{ token: APP_TOKEN }]); // the app token, not the bot token, opens the socket
    expect(sock.open).toBe(1);

    const { ack, envelopeId, ms } = await sock.click({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(ack['envelope_id']).toBe(envelopeId);
    expect(ms).toBeLessThan(3_000);
    await conn.idle();
    await w.watcher.drain();
    expect((await w.h.store.listDecisions(inc.id)).map((d) => [d.approver, d.verdict, d.channel, d.identity])).toEqual([['alice', 'approve', 'slack', `slack:T0TEST/${SLACK_IDS.alice}`]]);
    expect((await w.h.store.getIncident(inc.id))?.state).not.toBe('awaiting_approval');
    const told = w.stub.callsOf('chat.postEphemeral');
    expect(told.map((c) => [c.token, c.args['channel'], c.args['user'], c.args['text']])).toEqual([['xoxb-from-env', 'C0APPROVE', SLACK_IDS.alice, `:white_check_mark: Your approval of ${inc.id} is recorded (approved).`]]);
    // The SDK's chatter stays below warn, and nothing went wrong.
    expect(lines.some((l) => l.msg === 'slack socket mode connected')).toBe(true);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.filter((l) => l.stage === 'slack-socket-sdk')).toEqual([]);
  });

  it('a click from a Slack user who is not an approver is refused and audited, decides nothing, and is still acknowledged', async () => {
    const { w, sock, inc, conn } = await socketWorld();
    await conn.start();
    const { ack, envelopeId } = await sock.click({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: 'UNOBODY01' });
    expect(ack['envelope_id']).toBe(envelopeId);
    await conn.idle();
    expect(await w.h.store.listDecisions(inc.id)).toEqual([]);
    expect((await w.h.store.getIncident(inc.id))?.state).toBe('awaiting_approval');
    const refused = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'decision.refused');
    expect(refused.map((a) => [a.actor, a.data['channel'], a.data['slackUserId'], a.data['why']])).toEqual([['slack:UNOBODY01', 'slack', 'UNOBODY01', 'Slack user UNOBODY01 is not an approver in the policy']]);
    expect(w.stub.callsOf('chat.postEphemeral').map((c) => c.args['text'])).toEqual([':no_entry: Not recorded: Slack user UNOBODY01 is not an approver in the policy']);
  });

  it('the workspace check, malformed payloads and other envelope types: refused or ignored, acknowledged, nothing decided', async () => {
    const { w, sock, inc, conn } = await socketWorld({ edit: (doc) => void (doc.notify.slack && (doc.notify.slack.teamId = 'T0OURS')) });
    await conn.start();
    await sock.click({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    await sock.send({ type: 'interactive', payload: { type: 'block_actions', user: { id: 'not-an-id' }, actions: [{ action_id: 'x' }] } });
    await sock.send({ type: 'interactive', payload: { ...blockActionsPayload({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice }), type: 'view_submission' } });
    await sock.send({ type: 'events_api', payload: { event: { type: 'app_mention', text: 'approve everything' } } });
    await sock.send({ type: 'slash_commands', payload: { command: '/approve', user_id: SLACK_IDS.alice } });
    await conn.idle();
    expect(await w.h.store.listDecisions(inc.id)).toEqual([]);
    expect((await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'decision.refused').map((a) => a.data['why'])).toEqual(['Slack workspace T0TEST is not allowed to decide']);
  });
});

describe('Slack Socket Mode: startup, acknowledgement budget, stop', () => {
  const withSlack = async (edit: (s: NonNullable<PolicyDoc['notify']['slack']>) => void): Promise<ReturnType<typeof compilePolicy>> => {
    const w = await slackWorld();
    cleanups.push(async () => {
      await w.close();
      await w.stub.stop();
    });
    const doc = structuredClone(w.h.policy.doc);
    if (doc.notify.slack) edit(doc.notify.slack);
    return compilePolicy(doc, w.h.policy.file);
  };

  it('a missing or wrong app token stops the start with the variable named; Socket Mode needs no signing secret', async () => {
    const logger = pino({ level: 'silent' });
    const socket = await withSlack((s) => void (s.socketMode = true));
    expect(() => slackFromPolicy(socket, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' } })).toThrow('notify.slack.socketMode: the app token variable SLACK_APP_TOKEN is not set');
    expect(() => slackFromPolicy(socket, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-not-an-app-token' } })).toThrow('notify.slack.socketMode: SLACK_APP_TOKEN is not an app-level token (expected xapp-…)');
    expect(() => slackFromPolicy(socket, { logger, env: { SLACK_APP_TOKEN: APP_TOKEN } })).toThrow('notify.slack: the bot token variable SLACK_BOT_TOKEN is not set');
    const renamed = await withSlack((s) => Object.assign(s, { socketMode: true, appTokenEnv: 'MY_APP_TOKEN' }));
    expect(() => slackFromPolicy(renamed, { logger, env: ENV })).toThrow('notify.slack.socketMode: the app token variable MY_APP_TOKEN is not set');
    expect(slackFromPolicy(renamed, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-1', MY_APP_TOKEN: APP_TOKEN } })?.mode).toBe('socket');
    // Without Socket Mode nothing changes: the signing secret is required and clicks come over HTTP.
    const http = await withSlack(() => undefined);
    expect(() => slackFromPolicy(http, { logger, env: ENV })).toThrow('notify.slack: the signing secret variable SLACK_SIGNING_SECRET is not set');
    expect(slackFromPolicy(http, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' } })?.mode).toBe('http');
  });

  it('start() fails clearly when Slack refuses the app token, and does not keep retrying', async () => {
    const { sock, conn } = await socketWorld();
    sock.openFaults.push('invalid_auth');
    await expect(conn.start()).rejects.toThrow(/^slack socket mode: Slack refused the app token \(.*invalid_auth\); check the app-level token/);
    await new Promise((r) => setTimeout(r, 300));
    expect(sock.opens).toHaveLength(1);
    expect(sock.connections).toBe(0);
  });

  it('acknowledges by the budget while the decision is still running, and stop() waits for the ack, then closes the socket for good', async () => {
    const sock = await new SlackSocketStub().start();
    cleanups.push(() => sock.stop());
    let finished = false;
    const socket = new SlackSocketMode({
      appToken: APP_TOKEN,
      apiUrl: sock.url,
      logger: pino({ level: 'silent' }),
      ackBudgetMs: 200,
      handle: async () => {
        await new Promise((r) => setTimeout(r, 1_000));
        finished = true;
        return { status: 200, body: { ok: true } };
      },
    });
    cleanups.push(() => socket.stop());
    await socket.start();
    expect(socket.connected).toBe(true);
    const { ms } = await sock.click({ incidentId: 'checkout-20260101-0000', runbookHash: `sha256:${'a'.repeat(64)}`, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(ms).toBeLessThan(800);
    expect(finished).toBe(false);

    // stop() while a click is in flight: it is acknowledged (by the budget) before the socket closes.
    const second = sock.click({ incidentId: 'checkout-20260101-0000', runbookHash: `sha256:${'a'.repeat(64)}`, verdict: 'approve', userId: SLACK_IDS.bob });
    await new Promise((r) => setTimeout(r, 50));
    await socket.stop();
    expect((await second).ack['envelope_id']).toEqual(expect.any(String));
    expect(socket.connected).toBe(false);
    await sock.until(() => sock.open === 0);
    expect(sock.closes).toBe(1);
    // No reconnect after stop(), and a second stop() is harmless.
    await new Promise((r) => setTimeout(r, 400));
    expect(sock.opens).toHaveLength(1);
    expect(sock.connections).toBe(1);
    await socket.stop();
    await expect(sock.click({ incidentId: 'x', runbookHash: 'y', verdict: 'approve', userId: SLACK_IDS.alice })).rejects.toThrow('no open Socket Mode connection');
  });

  it('stop() through the channel closes the socket; clicks after that reach nobody', async () => {
    const { w, sock, inc, conn } = await socketWorld();
    await conn.start();
    await sock.until(() => sock.open === 1);
    await conn.stop();
    await sock.until(() => sock.open === 0);
    expect(sock.closes).toBe(1);
    await expect(sock.click({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice })).rejects.toThrow('no open Socket Mode connection');
    expect(await w.h.store.listDecisions(inc.id)).toEqual([]);
  });

  it('when Slack drops the connection the client opens a new one, through failed attempts, without crashing; clicks keep working', async () => {
    const sock = await new SlackSocketStub().start();
    cleanups.push(() => sock.stop());
    const seen: unknown[] = [];
    const socket = new SlackSocketMode({
      appToken: APP_TOKEN,
      apiUrl: sock.url,
      logger: pino({ level: 'silent' }),
      reconnectMinMs: 50,
      handle: async (p) => {
        seen.push((p as { user: { id: string } }).user.id);
        return { status: 200, body: { ok: true } };
      },
    });
    cleanups.push(() => socket.stop());
    await socket.start();
    // The next attempts fail: Slack answers ok:false, then HTTP 500 (retried by the Web API client, then failed).
    sock.openFaults.push('internal_error', 'http500', 'http500', 'http500');
    sock.drop();
    await sock.until(() => !socket.connected);
    await sock.until(() => socket.connected, 8_000);
    expect([sock.connections, sock.open]).toEqual([2, 1]);
    expect(sock.opens).toHaveLength(6); // 1 + the failed 4 + the one that worked
    await sock.click({ incidentId: 'checkout-20260101-0000', runbookHash: `sha256:${'a'.repeat(64)}`, verdict: 'approve', userId: SLACK_IDS.carol });
    expect(seen).toEqual([SLACK_IDS.carol]);
  });

  it('start() rides out an unreachable Slack: it keeps trying and resolves once connected', async () => {
    const sock = await new SlackSocketStub().start();
    cleanups.push(() => sock.stop());
    // A transient ok:false (not a refusal of the token), then HTTP 500s (retried by the Web API client, then failed).
    sock.openFaults.push('internal_error', 'http500', 'http500', 'http500');
    const socket = new SlackSocketMode({ appToken: APP_TOKEN, apiUrl: sock.url, logger: pino({ level: 'silent' }), reconnectMinMs: 50, handle: async () => ({ status: 200, body: {} }) });
    cleanups.push(() => socket.stop());
    await socket.start();
    expect(socket.connected).toBe(true);
    expect(sock.opens).toHaveLength(5);
    expect(sock.open).toBe(1);
  });

  it('start() gives up waiting after connectTimeoutMs when Slack never says hello, and stop() still ends everything', async () => {
    const sock = await new SlackSocketStub().start();
    cleanups.push(() => sock.stop());
    sock.sayHello = false;
    const { logger, lines } = capture();
    const socket = new SlackSocketMode({ appToken: APP_TOKEN, apiUrl: sock.url, logger, connectTimeoutMs: 300, clientPingTimeoutMs: 30_000, handle: async () => ({ status: 200, body: {} }) });
    cleanups.push(() => socket.stop());
    const started = performance.now();
    await socket.start();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(socket.connected).toBe(false);
    expect(lines.map((l) => l.msg)).toContain('slack socket mode is not connected yet; still trying (Slack clicks fail until it is)');
    await socket.stop();
    await sock.until(() => sock.open === 0);
  });
});
