import type { Server } from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from '../../src/approval/channels/slack-signature.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { createSlackActions, slackFromPolicy, type SlackActionsOptions } from '../../src/server/slack-routes.js';
import type { Incident } from '../../src/incident/incident.js';
import { SIGNING_SECRET, SLACK_IDS, blockActionsBody, click, postSigned, slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';

const worlds: SlackWorld[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  for (const w of worlds.splice(0)) {
    await w.close().catch(() => undefined);
    await w.stub.stop();
  }
});
type Proposed = Incident & { runbook: NonNullable<Incident['runbook']>; approval: NonNullable<Incident['approval']> };
async function proposed(o: Parameters<typeof slackWorld>[0] = {}): Promise<{ w: SlackWorld; inc: Proposed }> {
  const w = await slackWorld(o);
  worlds.push(w);
  const inc = (await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).find((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook || !inc.approval) throw new Error('no proposal');
  return { w, inc: inc as Proposed };
}
/** Nothing was decided and the request still waits. */
async function untouched(w: SlackWorld, inc: Proposed): Promise<void> {
  await w.settle();
  expect(await w.h.store.listDecisions(inc.id)).toEqual([]);
  const now = await w.h.store.getIncident(inc.id);
  expect(now?.state).toBe('awaiting_approval');
  expect(now?.version).toBe(inc.version);
}

describe('Slack request signatures (v0)', () => {
  it("matches Slack's documented example signature", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const sig = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe(sig);
    const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]>): ReturnType<typeof verifySlackSignature> =>
      verifySlackSignature({ signingSecret: '8f742231b10e8888abcd99yyyzzz85a5', timestamp: '1531420618', signature: sig, rawBody: Buffer.from(body), nowMs: 1531420618_000 + 60_000, ...over });
    expect(check({})).toEqual({ ok: true });
    expect(check({ nowMs: 1531420618_000 + 5 * 60_000 + 1 })).toEqual({ ok: false, why: 'stale_timestamp' });
    expect(check({ nowMs: 1531420618_000 - 5 * 60_000 - 1 })).toEqual({ ok: false, why: 'stale_timestamp' });
    expect(check({ rawBody: Buffer.from(body.replace('roadrunner', 'coyote')) })).toEqual({ ok: false, why: 'bad_signature' });
    expect(check({ signature: sig.replace(/.$/, '4') })).toEqual({ ok: false, why: 'bad_signature' });
    expect(check({ signature: sig.toUpperCase() })).toEqual({ ok: false, why: 'bad_signature' });
    expect(check({ signature: sig.slice(0, -2) })).toEqual({ ok: false, why: 'bad_signature' });
    expect(check({ signature: undefined })).toEqual({ ok: false, why: 'missing_headers' });
    expect(check({ timestamp: '1531420618.5' })).toEqual({ ok: false, why: 'bad_timestamp' });
    expect(check({ signingSecret: 'another-secret' })).toEqual({ ok: false, why: 'bad_signature' });
  });
});

describe('POST /slack/actions: bad input gets a clear error and changes nothing', () => {
  it('refuses other methods, other content types, oversized bodies and malformed payloads, each with its own message', async () => {
    const { w, inc } = await proposed();
    const get = await fetch(`${w.baseUrl}/slack/actions`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ error: 'POST only' });

    const good = blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    const cases: [string, { contentType?: string }, number, RegExp][] = [
      [JSON.stringify({ payload: 'x' }), { contentType: 'application/json' }, 415, /expected application\/x-www-form-urlencoded/],
      ['foo=bar', {}, 400, /no payload field in the form/],
      ['payload=%7Bnot%20json', {}, 400, /the payload is not valid JSON/],
      [new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', actions: [{ action_id: 'cloudops_approve' }] }) }).toString(), {}, 400, /invalid payload at user/],
      [new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'not-an-id' }, actions: [{ action_id: 'x' }] }) }).toString(), {}, 400, /invalid payload at user\.id: not a Slack user id/],
      [new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: SLACK_IDS.alice }, actions: [] }) }).toString(), {}, 400, /no action in the payload/],
      [new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: SLACK_IDS.alice }, actions: [{ action_id: 'x' }] }) }).toString(), {}, 400, /unsupported interaction type "view_submission"/],
      [blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice, value: `${inc.id}|sha256:beef` }), {}, 400, /the button value is not an incident id and runbook hash/],
      [blockActionsBody({ incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice, value: `../../etc|${inc.runbook.hash}` }), {}, 400, /the button value/],
    ];
    for (const [body, o, status, message] of cases) {
      const res = await postSigned(w.baseUrl, body, o);
      expect({ body: body.slice(0, 80), status: res.status }).toEqual({ body: body.slice(0, 80), status });
      expect(String(res.json['error'])).toMatch(message);
    }
    const huge = await postSigned(w.baseUrl, `payload=${'a'.repeat(300 * 1024)}`);
    expect(huge.status).toBe(413);
    expect(huge.json['error']).toMatch(/request body over 262144 bytes/);
    // The good payload still works afterwards: nothing was consumed by the bad ones.
    await untouched(w, inc);
    expect((await postSigned(w.baseUrl, good)).json).toEqual({ ok: true, outcome: 'approved' });
  });

  it('the "open incident page" link button is acknowledged and decides nothing', async () => {
    const { w, inc } = await proposed();
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice, actionId: 'cloudops_open' });
    expect(res).toEqual({ status: 200, json: { ok: true, ignored: 'cloudops_open' } });
    await untouched(w, inc);
  });

  it('a click on an unknown incident, or on an older runbook version, is refused and audited', async () => {
    const { w, inc } = await proposed();
    const ghost = await click(w.baseUrl, { incidentId: 'checkout-19700101-0000', runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(ghost.json).toEqual({ ok: false, error: 'no incident checkout-19700101-0000' });
    const stale = await click(w.baseUrl, { incidentId: inc.id, runbookHash: `sha256:${'0'.repeat(64)}`, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(stale.json['error']).toMatch(/the runbook of .* changed since this was shown; review the new version/);
    await untouched(w, inc);
    const refused = (await w.h.store.listAudit({ limit: 1000 })).filter((a) => a.kind === 'decision.refused');
    expect(refused.map((a) => [a.incidentId, a.actor, a.data['status']])).toEqual([
      [null, 'alice', 404],
      [inc.id, 'alice', 409],
    ]);
    expect(refused[0]?.data['incidentId']).toBe('checkout-19700101-0000');
  });

  it('acknowledges within the budget when the decision is slow, then finishes it and tells the person', async () => {
    const { w, inc } = await proposed();
    const told: string[] = [];
    let finished = false;
    const opts: SlackActionsOptions = {
      signingSecret: SIGNING_SECRET,
      decide: async (req) => {
        await new Promise((r) => setTimeout(r, 1_200));
        const res = await w.watcher.decide(req);
        finished = true;
        return res;
      },
      store: w.h.store,
      policy: w.h.policy,
      clock: w.h.clock,
      logger: pino({ level: 'silent' }),
      tell: async (_c, _u, text) => void told.push(text),
      ackBudgetMs: 200,
    };
    const slack = createSlackActions(opts);
    const server = createHttpServer({ store: w.h.store, policy: w.h.policy, clock: w.h.clock, watcher: w.watcher, logger: pino({ level: 'silent' }), registry: new Registry(), ready: () => ({ ok: true, why: '' }), approveCommand: () => '', extraRoutes: [slack.route] });
    servers.push(server);
    const port = await listen(server, 0, '127.0.0.1');
    const started = performance.now();
    const res = await click(`http://127.0.0.1:${port}`, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    const ms = performance.now() - started;
    expect(res).toEqual({ status: 200, json: { ok: true, pending: true } });
    expect(ms).toBeLessThan(1_000);
    expect(finished).toBe(false);
    await slack.idle();
    expect(finished).toBe(true);
    expect(told).toEqual([`:white_check_mark: Your approval of ${inc.id} is recorded (approved).`]);
    expect((await w.h.store.listDecisions(inc.id)).map((d) => [d.approver, d.channel, d.identity])).toEqual([['alice', 'slack', `slack:T0TEST/${SLACK_IDS.alice}`]]);
  });

  it('a Slack user id that the policy gives to two approvers is refused: one person never counts twice', async () => {
    const { w, inc } = await proposed({ quorum: 2, edit: (doc) => void (doc.approvers['bob'] = { ...doc.approvers['bob'], slackUserId: SLACK_IDS.alice }) });
    const res = await click(w.baseUrl, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(res.json).toEqual({ ok: false, error: `Slack user ${SLACK_IDS.alice} is several approvers in the policy (alice, bob); fix the policy` });
    await untouched(w, inc);
  });

  it('with teamIds set, a click from another Slack workspace is refused and audited even for a known user id', async () => {
    const { w, inc } = await proposed();
    const slack = createSlackActions({ signingSecret: SIGNING_SECRET, decide: (req) => w.watcher.decide(req), store: w.h.store, policy: w.h.policy, clock: w.h.clock, logger: pino({ level: 'silent' }), teamIds: ['T0OURS'] });
    const server = createHttpServer({ store: w.h.store, policy: w.h.policy, clock: w.h.clock, watcher: w.watcher, logger: pino({ level: 'silent' }), registry: new Registry(), ready: () => ({ ok: true, why: '' }), approveCommand: () => '', extraRoutes: [slack.route] });
    servers.push(server);
    const port = await listen(server, 0, '127.0.0.1');
    const res = await click(`http://127.0.0.1:${port}`, { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve', userId: SLACK_IDS.alice });
    expect(res.json).toEqual({ ok: false, error: 'Slack workspace T0TEST is not allowed to decide' });
    await slack.idle();
    await untouched(w, inc);
    expect((await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).filter((a) => a.kind === 'decision.refused').map((a) => a.data['team'])).toEqual(['T0TEST']);
  });
});

describe('slackFromPolicy', () => {
  it('is null without notify.slack, names a missing variable, and Socket Mode asks for the app token', async () => {
    const w = await slackWorld();
    worlds.push(w);
    const logger = pino({ level: 'silent' });
    const withSlack = (edit: (s: NonNullable<typeof w.h.policy.doc.notify.slack>) => void): ReturnType<typeof compilePolicy> => {
      const doc = structuredClone(w.h.policy.doc);
      if (doc.notify.slack) edit(doc.notify.slack);
      return compilePolicy(doc, w.h.policy.file);
    };
    const noSlack = structuredClone(w.h.policy.doc);
    delete noSlack.notify.slack;
    expect(slackFromPolicy(compilePolicy(noSlack, w.h.policy.file), { logger, env: {} })).toBeNull();
    expect(() => slackFromPolicy(w.h.policy, { logger, env: { SLACK_SIGNING_SECRET: 's' } })).toThrow('notify.slack: the bot token variable SLACK_BOT_TOKEN is not set');
    expect(() => slackFromPolicy(w.h.policy, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-1' } })).toThrow('notify.slack: the signing secret variable SLACK_SIGNING_SECRET is not set');
    expect(() => slackFromPolicy(withSlack((s) => void (s.socketMode = true)), { logger, env: { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's' } })).toThrow('notify.slack.socketMode: the app token variable SLACK_APP_TOKEN is not set');
    expect(() => slackFromPolicy(withSlack((s) => void (s.botTokenEnv = 'MY_TOKEN')), { logger, env: { SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's' } })).toThrow('the bot token variable MY_TOKEN is not set');
  });

  it('builds the notifier before the store exists and the route after, as the daemon does; the two work together', async () => {
    const { w, inc } = await proposed();
    const logger = pino({ level: 'silent' });
    const ch = slackFromPolicy(w.h.policy, { logger, env: { SLACK_BOT_TOKEN: 'xoxb-from-env', SLACK_SIGNING_SECRET: 'secret-from-env' } });
    if (!ch) throw new Error('no slack');
    const a = { kind: 'proposal' as const, incidentId: inc.id, title: 't', text: '', url: 'http://x/incidents/1', state: inc.state };
    await expect(ch.notifier.announce(a, new AbortController().signal)).rejects.toThrow('the Slack notifier was not attached to a store');
    const actions = ch.actions({ decide: (req) => w.watcher.decide(req), store: w.h.store, clock: w.h.clock });
    if (actions.mode !== 'http') throw new Error('expected the HTTP route');
    // The world's own notifier posted the proposal already; this one edits the same message with its token.
    await ch.notifier.announce({ ...a, kind: 'decision' }, new AbortController().signal);
    expect(w.stub.calls.at(-1)).toMatchObject({ method: 'chat.update', token: 'xoxb-from-env', args: { channel: 'C0APPROVE', ts: '1700000000.000001' } });
    const server = createHttpServer({ store: w.h.store, policy: w.h.policy, clock: w.h.clock, watcher: w.watcher, logger, registry: new Registry(), ready: () => ({ ok: true, why: '' }), approveCommand: () => '', extraRoutes: [actions.route] });
    servers.push(server);
    const base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    const c = { incidentId: inc.id, runbookHash: inc.runbook.hash, verdict: 'approve' as const, userId: SLACK_IDS.alice };
    expect((await click(base, c)).status).toBe(401); // signed with the test secret, not the one from the environment
    expect((await click(base, { ...c, secret: 'secret-from-env' })).json).toEqual({ ok: true, outcome: 'approved' });
    await actions.idle();
    expect(w.stub.callsOf('chat.postEphemeral').at(-1)).toMatchObject({ token: 'xoxb-from-env', args: { user: SLACK_IDS.alice } });
  });
});
