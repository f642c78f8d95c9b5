import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApprovalError } from '../approval/errors.js';
import { APPROVE_ACTION, REJECT_ACTION, parseButtonValue } from '../approval/channels/slack-blocks.js';
import { SlackNotifier, createSlackClient } from '../approval/channels/slack-notifier.js';
import { SlackSocketMode } from '../approval/channels/slack-socket-mode.js';
import { verifySlackSignature } from '../approval/channels/slack-signature.js';
import type { DecisionRequest } from '../approval/record-decision.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { DecideOutcome } from '../pipeline/decide.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import { HttpError, readBody, sendJson } from './http.js';
import { createSlackEvents, type SlackEventsOptions } from './slack-events.js';
import type { ServerDeps } from './server.js';

export type ExtraRoute = NonNullable<ServerDeps['extraRoutes']>[number];

export const SLACK_ACTIONS_PATH = '/slack/actions';
/** A block_actions payload carries the whole message it came from, URL-encoded; ours stay well under this. */
export const SLACK_MAX_BODY_BYTES = 256 * 1024;
/** Slack wants the HTTP 200 within 3 s; we answer by this budget even if the decision is still queued. */
export const SLACK_ACK_BUDGET_MS = 2_000;

/** The decision path shared by the HTTP route and Socket Mode: everything after the request is authenticated. */
export interface SlackInteractionOptions {
  /** Records the decision and acts on it (the Watcher's `decide`). */
  readonly decide: (req: DecisionRequest) => Promise<{ outcome: DecideOutcome }>;
  readonly store: Store;
  readonly policy: CompiledPolicy;
  /** The pipeline's clock, for audit timestamps. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Tells the person who clicked what became of it (an ephemeral message). Best effort. */
  readonly tell?: (channel: string, user: string, text: string) => Promise<void>;
  /** Slack is answered (HTTP 200 or the Socket Mode ack) by this budget even if the decision is still queued. */
  readonly ackBudgetMs?: number;
  /** When set, clicks from other Slack workspaces (team ids) are refused like unknown users. */
  readonly teamIds?: readonly string[];
}

export interface SlackActionsOptions extends SlackInteractionOptions {
  readonly signingSecret: string;
  /** Wall time for the replay window: Slack signs with real time even when the pipeline's clock is virtual. */
  readonly wallNow?: () => number;
}

export interface SlackActions {
  /** For ServerDeps.extraRoutes: handles POST /slack/actions. */
  readonly route: ExtraRoute;
  /** Resolves when every click received so far has been fully handled (tests, shutdown). */
  idle(): Promise<void>;
}

/** The answer to one interaction: the HTTP status and JSON body (over Socket Mode, only logged). */
export interface SlackAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface SlackInteractions {
  /**
   * One interaction payload, already authenticated (HTTP signature or the Socket Mode connection) and
   * parsed from JSON but not yet validated: schema, block_actions only, then the decision. Resolves with
   * the outcome, or `{ ok: true, pending: true }` once the ack budget is spent (the work goes on).
   */
  handle(json: unknown): Promise<SlackAnswer>;
  /** Resolves when every interaction received so far has been fully handled (tests, shutdown). */
  idle(): Promise<void>;
}

/** The part of a block_actions payload we read; everything else Slack sends is dropped. */
const payloadSchema = z.object({
  type: z.string().max(64),
  user: z.object({ id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'not a Slack user id'), team_id: z.string().max(32).optional(), username: z.string().max(100).optional() }),
  team: z.object({ id: z.string().max(32) }).nullish(),
  channel: z.object({ id: z.string().max(32) }).nullish(),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional(), action_ts: z.string().max(40).optional() }))
    .min(1, 'no action in the payload')
    .max(5),
});
type SlackPayload = z.infer<typeof payloadSchema>;

/**
 * POST /slack/actions: the Approve and Reject buttons. In order: body size, signature over the raw body
 * (v0, five-minute window, constant time), form and payload schema, the Slack user mapped to an
 * approver by user id. A click we cannot attribute is refused and audited and decides nothing. The
 * decision itself goes through the Watcher (which records it, then evaluates the quorum); Slack gets
 * its 200 when that is done or after `ackBudgetMs`, whichever is first, and the person is told the
 * outcome in an ephemeral message. A decision that could not be recorded answers 503: Slack shows the
 * click failed, and nothing was decided.
 */
export function createSlackActions(o: SlackActionsOptions): SlackActions {
  const log = o.logger.child({ stage: 'slack' });
  const wallNow = o.wallNow ?? (() => Date.now());
  const interactions = createSlackInteractions(o);

  const route: ExtraRoute = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== SLACK_ACTIONS_PATH) return false;
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    const raw = await readBody(req, SLACK_MAX_BODY_BYTES);
    const check = verifySlackSignature({
      signingSecret: o.signingSecret,
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      rawBody: raw,
      nowMs: wallNow(),
    });
    if (!check.ok) {
      log.warn({ why: check.why, ip: req.socket.remoteAddress }, 'slack request refused');
      throw new HttpError(401, `not a valid Slack request (${check.why})`);
    }
    const done = await interactions.handle(parseForm(req, raw));
    sendJson(res, done.status, done.body);
    return true;
  };

  return { route, idle: () => interactions.idle() };
}

/**
 * The decision path for one authenticated interaction, shared by POST /slack/actions and Socket Mode:
 * payload schema, block_actions only, button value, workspace (team) check, Slack user mapped to exactly
 * one approver, the decision through `decide`, the ephemeral reply, and an audit record for every
 * refusal. Slack is answered when the decision is done or after `ackBudgetMs`, whichever is first.
 */
export function createSlackInteractions(o: SlackInteractionOptions): SlackInteractions {
  const pending = new Set<Promise<unknown>>();
  const log = o.logger.child({ stage: 'slack' });
  const budget = o.ackBudgetMs ?? SLACK_ACK_BUDGET_MS;
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  /** Approvers with this Slack user id: one person must not count as two approvers. */
  const approversFor = (slackUserId: string): string[] => Object.entries(o.policy.doc.approvers).filter(([, a]) => a.slackUserId === slackUserId).map(([name]) => name);

  /** Tells the person in the background: the HTTP answer to Slack does not wait for another Slack call. */
  const tell = (p: SlackPayload, text: string): void => {
    const fn = o.tell;
    const channel = p.channel?.id;
    if (!fn || !channel) return;
    void track(
      (async () => {
        try {
          await fn(channel, p.user.id, text);
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'could not tell the Slack user the outcome');
        }
      })(),
    );
  };

  const refuse = async (p: SlackPayload, incidentId: string, actor: string, data: Record<string, unknown>, why: string): Promise<SlackAnswer> => {
    const known = await o.store.getIncident(incidentId).catch(() => null);
    try {
      await o.store.appendAudit({
        at: o.clock.now(),
        incidentId: known ? incidentId : null,
        kind: 'decision.refused',
        actor,
        data: { channel: 'slack', slackUserId: p.user.id, ...(known ? {} : { incidentId: incidentId.slice(0, 160) }), ...data, why: why.slice(0, 500) },
      });
    } catch (err) {
      log.error({ incidentId, err: errorMessage(err) }, 'could not audit a refused Slack decision');
    }
    log.warn({ incidentId, slackUserId: p.user.id, why }, 'slack decision refused');
    tell(p, `:no_entry: Not recorded: ${why}`);
    return { status: 200, body: { ok: false, error: why } };
  };

  /** Everything after the request was authenticated and parsed. */
  const act = async (p: SlackPayload): Promise<SlackAnswer> => {
    const action = p.actions[0];
    if (!action) return { status: 400, body: { error: 'no action in the payload' } };
    if (action.action_id !== APPROVE_ACTION && action.action_id !== REJECT_ACTION) return { status: 200, body: { ok: true, ignored: action.action_id.slice(0, 64) } };
    const verdict = action.action_id === APPROVE_ACTION ? 'approve' : 'reject';
    const target = parseButtonValue(action.value);
    if (!target) return { status: 400, body: { error: 'the button value is not an incident id and runbook hash' } };
    const team = p.team?.id ?? p.user.team_id;
    if (o.teamIds && !(team && o.teamIds.includes(team))) {
      return refuse(p, target.incidentId, `slack:${p.user.id}`, { verdict, runbookHash: target.runbookHash, team: team ?? null }, `Slack workspace ${team ?? '(none)'} is not allowed to decide`);
    }
    const [approver, ...others] = approversFor(p.user.id);
    if (!approver) {
      return refuse(p, target.incidentId, `slack:${p.user.id}`, { verdict, runbookHash: target.runbookHash }, `Slack user ${p.user.id} is not an approver in the policy`);
    }
    if (others.length) {
      return refuse(p, target.incidentId, `slack:${p.user.id}`, { verdict, runbookHash: target.runbookHash }, `Slack user ${p.user.id} is several approvers in the policy (${[approver, ...others].join(', ')}); fix the policy`);
    }
    try {
      const res = await o.decide({
        incidentId: target.incidentId,
        approver,
        verdict,
        runbookHash: target.runbookHash,
        channel: 'slack',
        identity: `slack:${team ? `${team}/` : ''}${p.user.id}`,
        ...(verdict === 'reject' ? { reason: 'rejected in Slack' } : {}),
      });
      log.info({ incidentId: target.incidentId, approver, verdict, outcome: res.outcome }, 'slack decision recorded');
      tell(p, `${verdict === 'approve' ? ':white_check_mark: Your approval' : ':no_entry: Your rejection'} of ${target.incidentId} is recorded (${res.outcome}).`);
      return { status: 200, body: { ok: true, outcome: res.outcome } };
    } catch (err) {
      if (err instanceof ApprovalError) return refuse(p, target.incidentId, approver, { verdict, runbookHash: target.runbookHash, status: err.status }, err.message);
      log.error({ incidentId: target.incidentId, approver, err: errorMessage(err) }, 'slack decision could not be recorded');
      tell(p, ':warning: Your decision could not be recorded and nothing was decided. Please try again in a moment.');
      return { status: 503, body: { error: 'the decision could not be recorded; nothing was decided — try again' } };
    }
  };

  const handle = async (json: unknown): Promise<SlackAnswer> => {
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { status: 400, body: { error: `invalid payload at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` } };
    }
    const payload = parsed.data;
    if (payload.type !== 'block_actions') return { status: 400, body: { error: `unsupported interaction type ${JSON.stringify(payload.type.slice(0, 64))}` } };

    const work = track(act(payload).catch((err: unknown): SlackAnswer => {
      log.error({ err: errorMessage(err) }, 'slack action failed');
      return { status: 500, body: { error: 'internal error' } };
    }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), budget)));
    const done: SlackAnswer | null = await Promise.race([work, late]);
    clearTimeout(timer);
    return done ?? { status: 200, body: { ok: true, pending: true } };
  };

  return {
    handle,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The form Slack POSTs: `payload=` JSON, parsed but not yet validated. */
function parseForm(req: IncomingMessage, raw: Buffer): unknown {
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('application/x-www-form-urlencoded')) throw new HttpError(415, 'expected application/x-www-form-urlencoded with a payload field');
  const text = new URLSearchParams(raw.toString('utf8')).get('payload');
  if (text === null) throw new HttpError(400, 'no payload field in the form');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the payload is not valid JSON');
  }
}

/** Start and stop of the clicks' transport, and waiting for clicks in flight. */
interface SlackLifecycle {
  /** Opens the transport: connects Socket Mode (rejects when Slack refuses the app token); nothing to do for HTTP. */
  start(): Promise<void>;
  /** Closes the transport: Socket Mode acknowledges the envelopes in flight, then closes the socket; nothing to do for HTTP. */
  stop(): Promise<void>;
  /** Resolves when every click received so far has been fully handled (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * How clicks reach the daemon, as `SlackChannel.actions` returns it: at the Request URL POST
 * /slack/actions (`route`, to mount in ServerDeps.extraRoutes), or over Socket Mode, with no HTTP route.
 */
export type SlackConnection = (SlackLifecycle & { readonly mode: 'http'; readonly route: ExtraRoute }) | (SlackLifecycle & { readonly mode: 'socket'; readonly route: null });

/** Slack, as the policy's `notify.slack` configures it. */
export interface SlackChannel {
  /** How clicks arrive: 'http' (the Request URL) or 'socket' (Socket Mode). */
  readonly mode: SlackConnection['mode'];
  /** Add to the notifiers before the pipeline is built. */
  readonly notifier: SlackNotifier;
  /**
   * Once the store, clock and Watcher exist: attaches the notifier to the store and clock and returns
   * the clicks' transport, deciding through `decide` (the Watcher's). Call `start()` on it before
   * serving (it connects Socket Mode) and `stop()` at shutdown.
   */
  actions(deps: { readonly decide: SlackInteractionOptions['decide']; readonly store: Store; readonly clock: Clock }): SlackConnection;
  /** Questions in a proposal's thread (POST /slack/events), answered there by the agent; null over Socket Mode. */
  events(deps: { readonly ask: SlackEventsOptions['ask']; readonly store: Store }): ReturnType<typeof createSlackEvents> | null;
}

/**
 * Builds Slack from the policy and the environment, or returns null when `notify.slack` is absent.
 * Throws at startup, naming the variable, when a secret is missing: the bot token always; with
 * `socketMode` the app token (xapp-…, from `appTokenEnv`), otherwise the signing secret. With Socket
 * Mode, clicks arrive over the WebSocket instead of the Request URL, so a daemon without a public
 * URL still receives them; they take the same decision path as POST /slack/actions.
 */
export function slackFromPolicy(policy: CompiledPolicy, opts: { readonly logger: Logger; readonly env?: NodeJS.ProcessEnv }): SlackChannel | null {
  const cfg = policy.doc.notify.slack;
  if (!cfg) return null;
  const env = opts.env ?? process.env;
  const token = env[cfg.botTokenEnv];
  if (!token) throw new Error(`notify.slack: the bot token variable ${cfg.botTokenEnv} is not set`);
  const appToken = cfg.socketMode ? env[cfg.appTokenEnv] : undefined;
  const secret = cfg.socketMode ? undefined : env[cfg.signingSecretEnv];
  if (cfg.socketMode) {
    if (!appToken) throw new Error(`notify.slack.socketMode: the app token variable ${cfg.appTokenEnv} is not set (an app-level token, xapp-…, with connections:write)`);
    if (!appToken.startsWith('xapp-')) throw new Error(`notify.slack.socketMode: ${cfg.appTokenEnv} is not an app-level token (expected xapp-…)`);
  } else if (!secret) {
    throw new Error(`notify.slack: the signing secret variable ${cfg.signingSecretEnv} is not set`);
  }
  const client = createSlackClient(token, { ...(cfg.apiUrl ? { apiUrl: cfg.apiUrl } : {}), logger: opts.logger });
  const notifier = new SlackNotifier({ client, channel: cfg.channel, policy, logger: opts.logger });
  return {
    mode: cfg.socketMode ? 'socket' : 'http',
    notifier,
    actions: ({ decide, store, clock }): SlackConnection => {
      notifier.attach(store, clock);
      const common: SlackInteractionOptions = {
        decide,
        store,
        policy,
        clock,
        logger: opts.logger,
        tell: (channel, user, text) => notifier.tell(channel, user, text),
        ...(cfg.teamId ? { teamIds: [cfg.teamId] } : {}),
      };
      if (appToken) {
        const interactions = createSlackInteractions(common);
        const socket = new SlackSocketMode({ appToken, ...(cfg.apiUrl ? { apiUrl: cfg.apiUrl } : {}), logger: opts.logger, handle: (payload) => interactions.handle(payload) });
        return {
          mode: 'socket',
          route: null,
          start: () => socket.start(),
          async stop() {
            await socket.stop();
            await interactions.idle();
          },
          idle: () => interactions.idle(),
        };
      }
      const http = createSlackActions({ ...common, signingSecret: secret ?? '' });
      return { mode: 'http', route: http.route, start: async () => undefined, stop: async () => undefined, idle: () => http.idle() };
    },
    events: ({ ask, store }) =>
      secret
        ? createSlackEvents({ signingSecret: secret, store, policy, logger: opts.logger, ask, ...(cfg.teamId ? { teamIds: [cfg.teamId] } : {}), post: async (channel, threadTs, text) => void (await client.chat.postMessage({ channel, thread_ts: threadTs, text, unfurl_links: false, unfurl_media: false })) })
        : null,
  };
}
