import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '../../src/approval/channels/slack-signature.js';
import { APPROVE_ACTION, REJECT_ACTION, buttonValue } from '../../src/approval/channels/slack-blocks.js';
import { SlackNotifier, createSlackClient } from '../../src/approval/channels/slack-notifier.js';
import type { ActionTarget, Notifier } from '../../src/cloud/ports.js';
import { compilePolicy } from '../../src/policy/compile.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { createSlackActions, type SlackActions } from '../../src/server/slack-routes.js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { rollingZScore } from '../../src/detect/rolling-zscore.js';
import type { Incident } from '../../src/incident/incident.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { simHarness, type Harness } from './sim-harness.js';

/** One Web API call as the stub received it: form fields, with `blocks` parsed back to JSON. */
export interface SlackCall {
  readonly method: string;
  readonly token: string | null;
  readonly args: Record<string, unknown>;
}

/** What the stub answers the next call of a method with, instead of success. */
export type SlackFault = { readonly status: 429; readonly retryAfter: number } | { readonly status: 500 } | { readonly error: string };

/**
 * A local HTTP server standing in for Slack's Web API (https://slack.com/api/METHOD), for
 * `new WebClient(token, { slackApiUrl: stub.url })`. Records every call; answers chat.postMessage with
 * a fresh ts; can be told to fail the next calls of a method (429 with Retry-After, HTTP 500, or an
 * `ok: false` platform error).
 */
export class SlackApiStub {
  readonly calls: SlackCall[] = [];
  private readonly faults = new Map<string, SlackFault[]>();
  private server: Server | null = null;
  private seq = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const body = Buffer.concat(chunks).toString('utf8');
        const args: Record<string, unknown> = {};
        if ((req.headers['content-type'] ?? '').includes('application/json')) Object.assign(args, JSON.parse(body || '{}'));
        else for (const [k, v] of new URLSearchParams(body)) args[k] = k === 'blocks' || k === 'metadata' ? JSON.parse(v) : v;
        const auth = req.headers.authorization ?? '';
        this.calls.push({ method, token: auth.startsWith('Bearer ') ? auth.slice(7) : null, args });
        const fault = this.faults.get(method)?.shift();
        const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(value));
        };
        if (fault && 'status' in fault && fault.status === 429) return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
        if (fault && 'status' in fault) return send(500, { ok: false, error: 'internal_error' });
        if (fault) return send(200, { ok: false, error: fault.error });
        if (method === 'chat.postMessage') {
          const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
          return send(200, { ok: true, channel: String(args['channel']).replace(/^#/, 'C'), ts, message: { ts } });
        }
        if (method === 'chat.update') return send(200, { ok: true, channel: args['channel'], ts: args['ts'] });
        if (method === 'chat.postEphemeral') return send(200, { ok: true, message_ts: '1700000000.999999' });
        return send(200, { ok: true });
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  /** Fails the next calls of `method`, one fault per call, in order. */
  fail(method: string, ...faults: SlackFault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

export const SIGNING_SECRET = 'test-signing-secret-8f2c1d';

export interface ClickOptions {
  readonly incidentId: string;
  readonly runbookHash: string;
  readonly verdict: 'approve' | 'reject';
  readonly userId: string;
  readonly channelId?: string;
  readonly secret?: string;
  /** Seconds since the epoch the request claims; real time by default. */
  readonly timestampSec?: number;
  /** Overrides the signature header (forgery tests). */
  readonly signature?: string;
  readonly actionId?: string;
  readonly value?: string;
}

/** A block_actions interaction as Slack sends it: form-encoded `payload=` JSON. */
export function blockActionsBody(o: ClickOptions): string {
  const payload = {
    type: 'block_actions',
    user: { id: o.userId, username: o.userId.toLowerCase(), team_id: 'T0TEST' },
    team: { id: 'T0TEST', domain: 'example' },
    api_app_id: 'A0TEST',
    trigger_id: '123.456.abc',
    channel: { id: o.channelId ?? 'C0APPROVE', name: 'approvals' },
    container: { type: 'message', message_ts: '1700000000.000001', channel_id: o.channelId ?? 'C0APPROVE' },
    response_url: 'https://hooks.slack.invalid/actions/T0TEST/1/abc',
    actions: [
      {
        type: 'button',
        block_id: 'cloudops_decision',
        action_id: o.actionId ?? (o.verdict === 'approve' ? APPROVE_ACTION : REJECT_ACTION),
        value: o.value ?? buttonValue(o.incidentId, o.runbookHash),
        action_ts: '1700000000.123456',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Signs `body` as Slack would and POSTs it to `baseUrl`/slack/actions. */
export async function postSigned(baseUrl: string, body: string, o: { secret?: string; timestampSec?: number; signature?: string; contentType?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const ts = String(o.timestampSec ?? Math.floor(Date.now() / 1000));
  const signature = o.signature ?? slackSignature(o.secret ?? SIGNING_SECRET, ts, body);
  const res = await fetch(`${baseUrl}/slack/actions`, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

/** A signed click on Approve or Reject. */
export function click(baseUrl: string, o: ClickOptions): Promise<{ status: number; json: Record<string, unknown> }> {
  return postSigned(baseUrl, blockActionsBody(o), {
    ...(o.secret !== undefined ? { secret: o.secret } : {}),
    ...(o.timestampSec !== undefined ? { timestampSec: o.timestampSec } : {}),
    ...(o.signature !== undefined ? { signature: o.signature } : {}),
  });
}

/** Slack user ids the test policy gives the demo approvers (erin triggered the suspect deployment). */
export const SLACK_IDS = { alice: 'UALICE001', bob: 'UBOB00001', carol: 'UCAROL001', erin: 'UERIN0001' } as const;

export interface SlackWorld {
  readonly h: Harness;
  /** The watcher to drive (not h.watcher): same ports, a fixed detector. */
  readonly watcher: Watcher;
  /** Advances virtual time one poll interval at a time, running a cycle each, until `until` holds. */
  runUntil(until: (incs: Incident[]) => boolean, maxCycles?: number): Promise<Incident[]>;
  readonly stub: SlackApiStub;
  readonly slack: SlackActions;
  readonly notifier: SlackNotifier;
  readonly server: Server;
  readonly baseUrl: string;
  /** Waits for clicks in flight and for the watcher's queue. */
  settle(): Promise<void>;
  /** Stops the HTTP server (not the stub) and closes the store. */
  close(): Promise<void>;
}

export interface SlackWorldOptions {
  /** Approvals required at every risk level. */
  readonly quorum?: number;
  readonly selfApproval?: 'forbidden' | 'allowed';
  readonly dataDir?: string;
  readonly stub?: SlackApiStub;
  readonly ackBudgetMs?: number;
  readonly edit?: (doc: PolicyDoc) => void;
  /** Wraps the simulated cloud's actions (e.g. to make a step fail). */
  readonly actions?: (sim: ActionTarget) => ActionTarget;
}

/**
 * The demo scenario on the simulated cloud with a manual clock, Slack as a notifier (against the stub)
 * and the daemon's HTTP server with the Slack route mounted; the policy gives alice, bob and carol
 * Slack ids and adds erin (who triggered the suspect deployment) to the on-call group.
 */
export async function slackWorld(o: SlackWorldOptions = {}): Promise<SlackWorld> {
  const stub = o.stub ?? (await new SlackApiStub().start());
  const h = simHarness('config/demo.yaml', (p) => {
    const doc = structuredClone(p.doc);
    for (const [name, id] of Object.entries(SLACK_IDS)) doc.approvers[name] = { ...(doc.approvers[name] ?? {}), slackUserId: id };
    doc.approvers['erin'] = { ...doc.approvers['erin'], email: 'erin@example.com' };
    doc.groups['oncall'] = [...(doc.groups['oncall'] ?? []), 'erin'];
    if (o.quorum !== undefined) for (const r of ['low', 'medium', 'high'] as const) doc.approval.quorum[r].approvals = o.quorum;
    if (o.selfApproval) doc.approval.selfApproval = o.selfApproval;
    doc.notify.slack = { channel: 'C0APPROVE', botTokenEnv: 'SLACK_BOT_TOKEN', signingSecretEnv: 'SLACK_SIGNING_SECRET', apiUrl: stub.url, socketMode: false, appTokenEnv: 'SLACK_APP_TOKEN' };
    o.edit?.(doc);
    return compilePolicy(doc, p.file);
  }, o.dataDir);
  const logger = pino({ level: 'silent' });
  const notifier = new SlackNotifier({ client: createSlackClient('xoxb-test-token', { apiUrl: stub.url, logger }), channel: 'C0APPROVE', store: h.store, policy: h.policy, clock: h.clock, logger });
  (h.deps.notifiers as Notifier[]).push(notifier);
  // A fixed, simple detector: these tests are about approvals, not about detection quality.
  const watcher = new Watcher({ ...h.deps, ...(o.actions ? { actions: o.actions(h.deps.actions) } : {}), detectorFor: (m) => rollingZScore({ window: 60, threshold: 4.5, direction: m.detector.direction, warmup: 30 }) });
  const slack = createSlackActions({
    signingSecret: SIGNING_SECRET,
    decide: (req) => watcher.decide(req),
    store: h.store,
    policy: h.policy,
    clock: h.clock,
    logger,
    tell: (channel, user, text) => notifier.tell(channel, user, text),
    ...(o.ackBudgetMs !== undefined ? { ackBudgetMs: o.ackBudgetMs } : {}),
  });
  const server = createHttpServer({
    store: h.store,
    policy: h.policy,
    clock: h.clock,
    watcher,
    logger,
    registry: new Registry(),
    ready: () => ({ ok: true, why: 'test' }),
    approveCommand: (id) => `cloudops approve ${id}`,
    extraRoutes: [slack.route],
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    h,
    watcher,
    stub,
    slack,
    notifier,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    async settle() {
      await slack.idle();
      await watcher.drain();
    },
    async runUntil(until, maxCycles = 200) {
      for (let i = 0; i < maxCycles; i++) {
        const incs = await h.incidents();
        if (until(incs)) return incs;
        h.clock.advance(h.policy.pollEveryMs);
        await watcher.runCycle();
        if (watcher.lastError) throw new Error(`cycle failed: ${watcher.lastError}`);
      }
      throw new Error(`condition not reached after ${maxCycles} cycles; incidents: ${JSON.stringify((await h.incidents()).map((i) => [i.id, i.state, i.reason]))}`);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await h.store.close();
    },
  };
}
