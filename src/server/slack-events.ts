import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AskService } from '../agent/ask.js';
import { slackMessageKey, type SlackMessageRef } from '../approval/channels/slack-notifier.js';
import { verifySlackSignature } from '../approval/channels/slack-signature.js';
import { errorMessage } from '../core/errors.js';
import { slackText } from '../core/sanitize.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import { HttpError, mediaType, readBody, sendJson } from './http.js';

export const SLACK_EVENTS_PATH = '/slack/events';
const MAX_EVENT_BYTES = 64 * 1024;
/** Event ids and message timestamps remembered against Slack's retries and app_mention + message duplicates. */
const SEEN_MAX = 5_000;

export interface SlackEventsOptions {
  readonly signingSecret: string;
  readonly store: Store;
  readonly policy: CompiledPolicy;
  readonly logger: Logger;
  readonly ask: Pick<AskService, 'ask' | 'availability'>;
  /** Posts `text` in the thread `threadTs` of `channel` (the proposal's message). */
  readonly post: (channel: string, threadTs: string, text: string) => Promise<void>;
  /** When set, events from other Slack workspaces are ignored. */
  readonly teamIds?: readonly string[];
  /** Wall time for the signature's replay window. */
  readonly wallNow?: () => number;
}

const eventSchema = z.object({
  type: z.string().max(64),
  user: z.string().regex(/^[UW][A-Z0-9]{2,20}$/).optional(),
  text: z.string().max(40_000).default(''),
  ts: z.string().max(40),
  thread_ts: z.string().max(40).optional(),
  channel: z.string().max(32),
  bot_id: z.string().max(64).optional(),
  subtype: z.string().max(64).optional(),
  team: z.string().max(32).optional(),
});

const envelopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('url_verification'), challenge: z.string().max(200) }),
  z.object({
    type: z.literal('event_callback'),
    team_id: z.string().max(32).optional(),
    event_id: z.string().max(64).optional(),
    authorizations: z.array(z.object({ user_id: z.string().max(32).optional() })).max(20).optional(),
    event: eventSchema,
  }),
]);

/** Chat text with Slack's control characters escaped line by line (no mention, no link can be forged). */
const threadText = (s: string): string => s.split('\n').map((l) => slackText(l)).join('\n').slice(0, 3500);

/**
 * POST /slack/events (Events API): a question in a proposal's thread that mentions the app is answered
 * by the agent in the same thread. Signature as for interactions (v0, five-minute window); Slack gets
 * its 200 at once and the answer follows (Slack retries events not acknowledged within 3 s). Messages
 * from bots, edits and messages outside a proposal's thread are ignored; only approvers in the policy
 * (by Slack user id) may ask. A question can never decide: it reaches only the ask service.
 */
export function createSlackEvents(o: SlackEventsOptions): { readonly route: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>; idle(): Promise<void> } {
  const log = o.logger.child({ stage: 'slack-events' });
  const wallNow = o.wallNow ?? (() => Date.now());
  const pending = new Set<Promise<unknown>>();
  const seen = new Set<string>();
  const remember = (key: string): boolean => {
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value as string);
    return true;
  };

  const incidentForThread = async (channel: string, threadTs: string): Promise<string | null> => {
    for (const inc of await o.store.listIncidents({ limit: 500 })) {
      const ref = await o.store.getValue<SlackMessageRef>(slackMessageKey(inc.id));
      if (ref && ref.ts === threadTs && ref.channel === channel) return inc.id;
    }
    return null;
  };

  const handle = async (ev: z.infer<typeof eventSchema>, team: string | null, botUsers: readonly string[]): Promise<void> => {
    const thread = ev.thread_ts;
    if (!thread || !ev.user) return;
    const reply = (text: string): Promise<void> => o.post(ev.channel, thread, threadText(text));
    const incidentId = await incidentForThread(ev.channel, thread);
    if (!incidentId) return;
    const avail = o.ask.availability;
    if (!avail.on) return reply(`The agent is not configured, so it cannot answer questions here (${avail.reason}).`);
    const approvers = Object.entries(o.policy.doc.approvers).filter(([, a]) => a.slackUserId === ev.user).map(([name]) => name);
    if (approvers.length !== 1 || !approvers[0]) return reply(`<@${ev.user}> only an approver in the policy (mapped by Slack user id) can ask the agent here.`);
    const question = ev.text.replace(/<@[UW][A-Z0-9]+>/g, (m) => (botUsers.includes(m.slice(2, -1)) ? '' : m)).trim();
    const out = await o.ask.ask({ incidentId, question, asker: approvers[0], identity: `slack:${team ? `${team}/` : ''}${ev.user}`, channel: 'slack', reply });
    if (out.kind === 'refused') await reply(`Not asked: ${out.reason}`);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== SLACK_EVENTS_PATH) return false;
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    const raw = await readBody(req, MAX_EVENT_BYTES);
    const check = verifySlackSignature({ signingSecret: o.signingSecret, timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature'), rawBody: raw, nowMs: wallNow() });
    if (!check.ok) {
      log.warn({ why: check.why, ip: req.socket.remoteAddress }, 'slack event refused');
      throw new HttpError(401, `not a valid Slack request (${check.why})`);
    }
    if (mediaType(req.headers['content-type']).type !== 'application/json') throw new HttpError(415, 'expected application/json');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new HttpError(400, 'the body is not valid JSON');
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) {
      // Event types we do not handle (app_rate_limited, …) are acknowledged and dropped.
      sendJson(res, 200, { ok: true, ignored: true });
      return true;
    }
    const env = parsed.data;
    if (env.type === 'url_verification') {
      sendJson(res, 200, { challenge: env.challenge });
      return true;
    }
    const ev = env.event;
    const team = env.team_id ?? ev.team ?? null;
    const botUsers = (env.authorizations ?? []).flatMap((a) => (a.user_id ? [a.user_id] : []));
    const mentionsApp = ev.type === 'app_mention' || (ev.type === 'message' && botUsers.some((u) => ev.text.includes(`<@${u}>`)));
    const fresh = (!env.event_id || remember(`e:${env.event_id}`)) && remember(`m:${ev.channel}:${ev.ts}`);
    const teamOk = !o.teamIds || (team !== null && o.teamIds.includes(team));
    if (mentionsApp && fresh && teamOk && !ev.bot_id && !ev.subtype) {
      const work = handle(ev, team, botUsers).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'a Slack question could not be handled'));
      pending.add(work);
      void work.finally(() => pending.delete(work));
    }
    sendJson(res, 200, { ok: true });
    return true;
  };

  return {
    route,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
