import { ErrorCode, LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import { slackText } from '../../core/sanitize.js';
import type { Logger } from 'pino';
import type { Announcement, Notifier } from '../../cloud/ports.js';
import type { Clock } from '../../core/clock.js';
import { abortableTimeout } from '../../core/clock.js';
import { PermanentError, TransientError, errorMessage } from '../../core/errors.js';
import type { Incident } from '../../incident/incident.js';
import { approvalRules, type CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import { evaluateQuorum } from '../quorum.js';
import { finalLabel, renderSlackMessage, type SlackMessage } from './slack-blocks.js';

/**
 * A short retry policy: the SDK's default (ten retries over about thirty minutes) would stall a
 * decision's announcement for half an hour. Three tries within a few seconds, then the failure is
 * audited and the web page (which always shows the truth) remains.
 */
export const SLACK_RETRY = { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2_000, randomize: true } as const;
export const SLACK_TIMEOUT_MS = 5_000;
/** A 429 asking to wait at most this long is waited out once; a longer one fails the call. */
const MAX_RATE_LIMIT_WAIT_S = 10;

/** Where the proposal message lives, kept in the store so updates survive a restart. */
export interface SlackMessageRef {
  readonly channel: string;
  readonly ts: string;
}
export const slackMessageKey = (incidentId: string): string => `slack.message.${incidentId}`;

/** A WebClient for a daemon: short retries, a request timeout, rate limits surfaced to us, SDK logs to pino. */
export function createSlackClient(token: string, opts: { apiUrl?: string; logger: Logger }): WebClient {
  return new WebClient(token, {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: { ...SLACK_RETRY },
    timeout: SLACK_TIMEOUT_MS,
    rejectRateLimitedCalls: true,
    logger: sdkLogger(opts.logger),
    logLevel: LogLevel.WARN,
  });
}

/** A Slack SDK's logger, onto pino: warnings and errors only (the SDKs are chatty at debug and info), lines capped. */
export function sdkLogger(log: Logger, stage = 'slack-sdk'): SlackLogger {
  const child = log.child({ stage });
  const line = (args: unknown[]): string => args.map((x) => (typeof x === 'string' ? x : errorMessage(x))).join(' ').slice(0, 500);
  let level = LogLevel.WARN;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...a: unknown[]) => child.warn(line(a)),
    error: (...a: unknown[]) => child.error(line(a)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackNotifierOptions {
  readonly client: WebClient;
  readonly channel: string;
  /** The store and clock; may be given later with `attach` (the composition root builds them after the notifiers). */
  readonly store?: Store;
  readonly clock?: Clock;
  readonly policy: CompiledPolicy;
  readonly logger: Logger;
}

/**
 * Posts each proposal to a Slack channel with Approve / Reject buttons, then edits that message with
 * every decision and the final state (the buttons disappear once nothing is awaited). Reminders,
 * escalations and the final outcome are also thread replies, so people get notified.
 */
export class SlackNotifier implements Notifier {
  readonly channel = 'slack';
  private bound: { store: Store; clock: Clock } | null;

  constructor(private readonly o: SlackNotifierOptions) {
    this.bound = o.store && o.clock ? { store: o.store, clock: o.clock } : null;
  }

  /** Gives the notifier the store (message references, decisions) and the pipeline's clock. */
  attach(store: Store, clock: Clock): void {
    this.bound = { store, clock };
  }

  private get store(): Store {
    if (!this.bound) throw new PermanentError('the Slack notifier was not attached to a store');
    return this.bound.store;
  }

  private get clock(): Clock {
    if (!this.bound) throw new PermanentError('the Slack notifier was not attached to a clock');
    return this.bound.clock;
  }

  async announce(a: Announcement, signal: AbortSignal): Promise<void> {
    const inc = await this.store.getIncident(a.incidentId);
    if (!inc) return;
    const { msg, waitingOn } = await this.render(inc, a.url);
    const ref = await this.store.getValue<SlackMessageRef>(slackMessageKey(inc.id));
    if (!ref) {
      const posted = await this.call('chat.postMessage', signal, () => this.o.client.chat.postMessage({ channel: this.o.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false, unfurl_media: false }));
      if (!posted.ts || !posted.channel) throw new PermanentError('slack chat.postMessage returned no ts');
      await this.store.setValue(slackMessageKey(inc.id), { channel: posted.channel, ts: posted.ts } satisfies SlackMessageRef);
      return;
    }
    await this.call('chat.update', signal, () => this.o.client.chat.update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks }));
    if (a.kind === 'reminder' || a.kind === 'final') {
      const mentions = waitingOn.map((id) => `<@${id}>`).join(' ');
      // The title carries untrusted text (a commit message): escaped, so it cannot mention anyone.
      const text = a.kind === 'final' ? `${finalLabel(inc.state)} — ${slackText(a.title)}` : `:bell: ${slackText(a.title)}${mentions ? ` — ${mentions}` : ''}`;
      await this.call('chat.postMessage', signal, () => this.o.client.chat.postMessage({ channel: ref.channel, thread_ts: ref.ts, text: text.slice(0, 3000), unfurl_links: false }));
    }
  }

  /** A message only `user` sees, in `channel` (the result of their click). Best effort. */
  async tell(channel: string, user: string, text: string): Promise<void> {
    await this.call('chat.postEphemeral', new AbortController().signal, () => this.o.client.chat.postEphemeral({ channel, user, text: slackText(text).slice(0, 3000) }));
  }

  /** The message, and the Slack users a reminder should notify: eligible, allowed, not yet decided. */
  private async render(inc: Incident, url: string): Promise<{ msg: SlackMessage; waitingOn: string[] }> {
    const decisions = await this.store.listDecisions(inc.id);
    const rules = inc.runbook && inc.approval ? approvalRules(this.o.policy, inc.runbook.risk, inc.approval.escalated) : null;
    const q = rules && inc.approval ? evaluateQuorum(inc.approval, decisions, rules) : null;
    const msg = renderSlackMessage({
      incident: inc,
      decisions,
      quorum: q ? { approvedBy: q.approvedBy, needed: q.needed } : null,
      eligible: rules ? [...rules.eligible] : [],
      url,
      now: this.clock.now(),
    });
    const decided = new Set(decisions.filter((d) => d.runbookHash === inc.approval?.runbookHash).map((d) => d.approver));
    const waitingOn = inc.state === 'awaiting_approval' && rules && inc.approval
      ? [...rules.eligible]
          .filter((n) => !decided.has(n) && !inc.approval?.excludedApprovers.includes(n))
          .flatMap((n) => {
            const id = this.o.policy.doc.approvers[n]?.slackUserId;
            return id ? [id] : [];
          })
      : [];
    return { msg, waitingOn };
  }

  /** One Web API call: a short rate-limit wait at most once, SDK errors translated to port errors. */
  private async call<T>(method: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
        if (e.code === ErrorCode.RateLimitedError && attempt === 0 && (e.retryAfter ?? Infinity) <= MAX_RATE_LIMIT_WAIT_S) {
          await abortableTimeout((e.retryAfter ?? 1) * 1000, signal);
          continue;
        }
        if (e.code === ErrorCode.PlatformError) throw new PermanentError(`slack ${method}: ${e.data?.error ?? 'error'}`, { cause: err });
        if (e.code === ErrorCode.RateLimitedError) throw new TransientError(`slack ${method}: rate limited for ${e.retryAfter ?? '?'} s`, { cause: err });
        throw new TransientError(`slack ${method}: ${errorMessage(err).slice(0, 200)}`, { cause: err });
      }
    }
  }
}
