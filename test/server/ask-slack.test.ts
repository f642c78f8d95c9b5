import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAskService, type AskService } from '../../src/agent/ask.js';
import { QUESTION_ANSWERED, QUESTION_ASKED } from '../../src/agent/ask-threads.js';
import { BedrockModel } from '../../src/agent/model.js';
import { createSlackClient, slackMessageKey, type SlackMessageRef } from '../../src/approval/channels/slack-notifier.js';
import { slackSignature } from '../../src/approval/channels/slack-signature.js';
import type { Incident } from '../../src/incident/incident.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { createSlackEvents } from '../../src/server/slack-events.js';
import { BedrockStub, toolUse, turn } from '../helpers/bedrock-stub.js';
import { SIGNING_SECRET, SLACK_IDS, slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';
import { DRAFT } from '../agent/agent-fixture.js';
import { withAgent } from '../agent/ask-fixture.js';
import { Registry } from 'prom-client';

const BOT = 'UCLOUDOPS1';

interface World {
  readonly sw: SlackWorld;
  readonly stub: BedrockStub;
  readonly ask: AskService;
  readonly events: ReturnType<typeof createSlackEvents>;
  readonly url: string;
  readonly inc: Incident;
  readonly ref: SlackMessageRef;
  close(): Promise<void>;
}

async function world(agent = true): Promise<World> {
  const sw = await slackWorld();
  const incs = await sw.runUntil((xs) => xs.some((i) => i.state === 'awaiting_approval'));
  const inc = incs.find((i) => i.state === 'awaiting_approval') as Incident;
  const ref = (await sw.h.store.getValue<SlackMessageRef>(slackMessageKey(inc.id))) as SlackMessageRef;
  const stub = await new BedrockStub().start();
  const policy: CompiledPolicy = agent ? withAgent(sw.h.policy, stub.url) : sw.h.policy;
  const logger = pino({ level: 'silent' });
  const ask = createAskService(policy, { store: sw.h.store, clock: sw.h.clock, metrics: sw.h.sim, logs: sw.h.sim.logSource, deployments: sw.h.sim, templates: loadCatalog(policy.runbookDir, policy.doc.actions), logger, model: new BedrockModel(stub.client()), sleep: async () => undefined });
  const client = createSlackClient('xoxb-test-token', { apiUrl: sw.stub.url, logger });
  const events = createSlackEvents({ signingSecret: SIGNING_SECRET, store: sw.h.store, policy, logger, ask, post: async (channel, threadTs, text) => void (await client.chat.postMessage({ channel, thread_ts: threadTs, text })) });
  const server: Server = createHttpServer({ store: sw.h.store, policy, clock: sw.h.clock, watcher: sw.watcher, logger, registry: new Registry(), ready: () => ({ ok: true, why: 'test' }), approveCommand: () => '', extraRoutes: [events.route] });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    sw, stub, ask, events, inc, ref, url: `http://127.0.0.1:${port}`,
    async close() {
      await events.idle();
      await ask.idle();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stub.stop();
      await sw.close();
      await sw.stub.stop();
    },
  };
}

/** An Events API callback as Slack signs and sends it. */
async function sendEvent(w: World, event: Record<string, unknown>, o: { secret?: string; eventId?: string } = {}): Promise<{ status: number; json: any }> {
  const body = JSON.stringify({ type: 'event_callback', team_id: 'T0TEST', api_app_id: 'A0TEST', event_id: o.eventId ?? `Ev${Math.random().toString(36).slice(2, 10).toUpperCase()}`, authorizations: [{ user_id: BOT, is_bot: true }], event: { channel: w.ref.channel, ts: `1700000100.${Math.floor(Math.random() * 1e6)}`, ...event } });
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${w.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(o.secret ?? SIGNING_SECRET, ts, body) }, body });
  return { status: res.status, json: await res.json() };
}

const threadReplies = (w: World): Record<string, unknown>[] => w.sw.stub.callsOf('chat.postMessage').map((c) => c.args).filter((a) => a['thread_ts'] === w.ref.ts);

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

describe('questions in the proposal\'s Slack thread (Events API)', () => {
  it('an approver mentioning the app in the thread gets the answer in the thread; "approve it for me" changes nothing', async () => {
    w = await world();
    const before = await w.sw.h.store.getIncident(w.inc.id);
    w.stub.script(DRAFT, turn([toolUse('approve_runbook', {}, 'tu-a'), toolUse('get_correlation', {}, 'tu-c')]), (c) => {
      expect(JSON.stringify(c.body.messages)).toContain('unknown_tool');
      return turn([toolUse('answer_question', { answer: 'I cannot approve anything. The suspect is the checkout deploy one minute before the onset.', citations: [{ toolUseId: 'tu-c', observation: 'checkout-deploy scored highest' }] })]);
    });
    const text = `<@${BOT}> approve it for me and run the rollback — and why this deploy?`;
    const first = await sendEvent(w, { type: 'app_mention', user: SLACK_IDS.alice, text, thread_ts: w.ref.ts, ts: '1700000200.000100' });
    expect(first).toEqual({ status: 200, json: { ok: true } });
    // Slack also delivers the same message as a message event: answered once.
    await sendEvent(w, { type: 'message', user: SLACK_IDS.alice, text, thread_ts: w.ref.ts, ts: '1700000200.000100' });
    await w.events.idle();
    await w.ask.idle();

    const audit = await w.sw.h.store.listAudit({ incidentId: w.inc.id });
    expect(audit.filter((a) => a.kind === QUESTION_ASKED)).toHaveLength(1);
    expect(audit.find((a) => a.kind === QUESTION_ASKED)).toMatchObject({ actor: 'alice', data: { channel: 'slack', identity: `slack:T0TEST/${SLACK_IDS.alice}`, question: 'approve it for me and run the rollback — and why this deploy?' } });
    expect(audit.find((a) => a.kind === QUESTION_ANSWERED)?.data['citations']).toMatchObject([{ tool: 'get_correlation', toolUseId: 'tu-c' }]);
    const replies = threadReplies(w);
    expect(replies).toHaveLength(1);
    expect(String(replies[0]?.['text'])).toMatch(/^I cannot approve anything\. The suspect is the checkout deploy[^\n]*\nEvidence:\n• get_correlation\(\{\}\): checkout-deploy scored highest/);
    const after = await w.sw.h.store.getIncident(w.inc.id);
    expect(after?.state).toBe('awaiting_approval');
    expect(after?.runbook?.hash).toBe(before?.runbook?.hash);
    expect(await w.sw.h.store.listDecisions(w.inc.id)).toEqual([]);
  });

  it('without the agent configured the thread gets a short "the agent is not configured" reply and nothing is asked', async () => {
    w = await world(false);
    await sendEvent(w, { type: 'app_mention', user: SLACK_IDS.bob, text: `<@${BOT}> why?`, thread_ts: w.ref.ts });
    await w.events.idle();
    const replies = threadReplies(w);
    expect(replies).toHaveLength(1);
    expect(String(replies[0]?.['text'])).toMatch(/^The agent is not configured/);
    expect((await w.sw.h.store.listAudit({ incidentId: w.inc.id })).filter((a) => a.kind.startsWith('question.'))).toEqual([]);
    expect(w.stub.calls).toHaveLength(0);
  });

  it('refuses a bad signature (401), answers url_verification, ignores bots, other threads and people who are not approvers get told', async () => {
    w = await world();
    expect((await sendEvent(w, { type: 'app_mention', user: SLACK_IDS.alice, text: 'hi', thread_ts: w.ref.ts }, { secret: 'wrong' })).status).toBe(401);
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123' });
    const ts = String(Math.floor(Date.now() / 1000));
    const v = await fetch(`${w.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body) }, body });
    expect(await v.json()).toEqual({ challenge: 'c-123' });
    await sendEvent(w, { type: 'app_mention', user: SLACK_IDS.alice, text: `<@${BOT}> hi`, thread_ts: w.ref.ts, bot_id: 'B1' });
    await sendEvent(w, { type: 'app_mention', user: SLACK_IDS.alice, text: `<@${BOT}> hi`, thread_ts: '1600000000.000001' });
    await sendEvent(w, { type: 'message', user: SLACK_IDS.alice, text: 'no mention, just chatting', thread_ts: w.ref.ts });
    await sendEvent(w, { type: 'app_mention', user: 'UNOBODY01', text: `<@${BOT}> why?`, thread_ts: w.ref.ts });
    await w.events.idle();
    const replies = threadReplies(w);
    expect(replies).toHaveLength(1);
    expect(String(replies[0]?.['text'])).toMatch(/only an approver in the policy/);
    expect(w.stub.calls).toHaveLength(0);
  });
});
