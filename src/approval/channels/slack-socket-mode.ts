import { SocketModeClient, UnrecoverableSocketModeStartError } from '@slack/socket-mode';
import { ErrorCode } from '@slack/web-api';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.js';
import { SLACK_RETRY, SLACK_TIMEOUT_MS, sdkLogger } from './slack-notifier.js';

/** What became of one interaction; only logged here (Slack is answered with the ack, the person with an ephemeral message). */
export interface SlackSocketAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface SlackSocketModeOptions {
  /** The app-level token (xapp-…) with connections:write; it authenticates apps.connections.open and so the WebSocket. */
  readonly appToken: string;
  /** Override of the Web API base URL, for apps.connections.open (tests). */
  readonly apiUrl?: string;
  readonly logger: Logger;
  /**
   * Handles the payload of one `interactive` envelope (a block_actions payload, not yet validated).
   * Should resolve within Slack's 3 s: the envelope is acknowledged when it does, or after `ackBudgetMs`.
   */
  readonly handle: (payload: unknown) => Promise<SlackSocketAnswer>;
  /** The envelope is acknowledged by this budget even when `handle` is still working (Slack wants the ack within 3 s). */
  readonly ackBudgetMs?: number;
  /** `start()` waits this long for the first connection, then resolves and lets the client keep retrying. */
  readonly connectTimeoutMs?: number;
  /** The SDK's heartbeat timeouts; tests shorten them. */
  readonly clientPingTimeoutMs?: number;
  readonly serverPingTimeoutMs?: number;
  /** Backoff between reconnect attempts: from this, doubling per failure, up to the max (with jitter). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

export const SOCKET_ACK_BUDGET_MS = 2_000;
export const SOCKET_CONNECT_TIMEOUT_MS = 20_000;
/** Reconnects wait this long, doubling per failure up to the cap. */
export const SOCKET_RECONNECT_MIN_MS = 1_000;
export const SOCKET_RECONNECT_MAX_MS = 60_000;
/** stop() waits this long for the close handshake, then terminates the socket. */
const CLOSE_HANDSHAKE_MS = 2_000;

/**
 * Slack interactions over Socket Mode, for a daemon without a public URL: the SDK's SocketModeClient
 * opens the WebSocket (apps.connections.open with the app token), and each `interactive` envelope's
 * payload goes to `handle`, the same decision path as POST /slack/actions minus the HTTP signature
 * (the socket itself is authenticated by the app token). Every envelope is acknowledged, by the ack
 * budget at the latest; other envelope types are acknowledged and ignored.
 *
 * Reconnecting is ours, not the SDK's: its own loop retries apps.connections.open a hundred times and
 * lets a failed reconnect become an unhandled rejection (which would end the daemon). Here a dropped
 * socket (Slack's periodic refresh, a missed pong, a network error) is reopened with a capped
 * exponential backoff, one warning per failed attempt at most.
 */
export class SlackSocketMode {
  private readonly client: SocketModeClient;
  private readonly log: Logger;
  private readonly inflight = new Set<Promise<void>>();
  private running = false;
  private accepting = false;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private isConnected = false;

  constructor(private readonly o: SlackSocketModeOptions) {
    this.log = o.logger.child({ stage: 'slack-socket' });
    this.client = new SocketModeClient({
      appToken: o.appToken,
      logger: sdkLogger(o.logger, 'slack-socket-sdk'),
      autoReconnectEnabled: false,
      ...(o.clientPingTimeoutMs !== undefined ? { clientPingTimeout: o.clientPingTimeoutMs } : {}),
      ...(o.serverPingTimeoutMs !== undefined ? { serverPingTimeout: o.serverPingTimeoutMs } : {}),
      // The SDK's default is a hundred retries of apps.connections.open; ours is the notifier's short policy.
      clientOptions: { ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}), retryConfig: { ...SLACK_RETRY }, timeout: SLACK_TIMEOUT_MS },
    });
    this.client.on('connected', () => {
      // A connection that completes after stop() (apps.connections.open was in flight) is closed again.
      if (!this.running) return void this.client.disconnect().catch(() => undefined);
      this.isConnected = true;
      if (this.failures) this.log.info({ afterFailures: this.failures }, 'slack socket mode reconnected');
      else this.log.info('slack socket mode connected');
      this.failures = 0;
    });
    this.client.on('disconnected', () => {
      this.isConnected = false;
      // A failed attempt is retried by whoever awaited it; a socket that was up and dropped is reopened here.
      if (this.running && !this.connecting) {
        this.log.info('slack socket mode connection closed; reconnecting');
        this.retryLater(0);
      }
    });
    this.client.on('slack_event', (e: SocketEvent) => void this.onEnvelope(e));
  }

  /** Whether the WebSocket is open (Slack said hello and it has not closed since). */
  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * Opens the socket. Rejects when Slack refuses the app token (an `ok: false` answer such as
   * invalid_auth: a configuration error). Otherwise resolves once Slack says hello, or after
   * `connectTimeoutMs` with a warning while reconnecting goes on in the background.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.accepting = true;
    const waitMs = this.o.connectTimeoutMs ?? SOCKET_CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), waitMs)));
    let waiting = true;
    const first = this.connect().then(
      () => 'up' as const,
      (err: unknown) => {
        if (!this.running) return { err };
        if (isRefusal(err)) {
          // Usually answered while start() waits (it rejects); if later, the socket stays closed.
          if (!waiting) this.log.error({ err: errorMessage(err) }, 'slack socket mode: Slack refused the app token; clicks will not arrive');
        } else {
          this.log.warn({ err: errorMessage(err) }, 'slack socket mode could not connect yet; retrying');
          this.retryLater(1);
        }
        return { err };
      },
    );
    try {
      const r = await Promise.race([first, late]);
      if (r === 'up') return;
      if (r !== 'late') {
        if (isRefusal(r.err)) {
          this.running = false;
          this.accepting = false;
          throw new Error(`slack socket mode: Slack refused the app token (${errorMessage(r.err)}); check the app-level token and that Socket Mode is enabled for the app`);
        }
        const up = await Promise.race([new Promise<'up'>((res) => this.client.once('connected', () => res('up'))), late]);
        if (up === 'up') return;
      }
      if (this.running) this.log.warn({ afterMs: waitMs }, 'slack socket mode is not connected yet; still trying (Slack clicks fail until it is)');
    } finally {
      waiting = false;
      clearTimeout(timer);
    }
  }

  /** Stops taking envelopes, lets those in flight be acknowledged (within the ack budget), then closes the socket. */
  async stop(): Promise<void> {
    const was = this.running;
    this.running = false;
    this.accepting = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    if (!was) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([this.client.disconnect().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), CLOSE_HANDSHAKE_MS)))]);
    clearTimeout(timer);
    // No close frame back: a second disconnect terminates the socket instead of waiting for ws' 30 s.
    if (!closed) await this.client.disconnect().catch(() => undefined);
    // An attempt still waiting on Slack settles on the disconnect; do not wait on it longer than the handshake.
    const attempt = this.connecting;
    if (attempt) await Promise.race([attempt.catch(() => undefined), new Promise<void>((r) => setTimeout(r, CLOSE_HANDSHAKE_MS).unref())]);
    this.isConnected = false;
    this.log.info('slack socket mode closed');
  }

  /** One attempt: apps.connections.open, then the WebSocket until Slack says hello. */
  private connect(): Promise<void> {
    this.connecting ??= this.client
      .start()
      .then(() => undefined)
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  /** Schedules one more attempt after a backoff of `failures` (0: the socket just dropped, reopen soon). */
  private retryLater(failures: number): void {
    if (!this.running || this.retryTimer) return;
    this.failures = Math.max(this.failures, failures);
    const min = this.o.reconnectMinMs ?? SOCKET_RECONNECT_MIN_MS;
    const base = Math.min(min * 2 ** Math.max(0, this.failures - 1), this.o.reconnectMaxMs ?? SOCKET_RECONNECT_MAX_MS);
    const delay = this.failures === 0 ? Math.min(min, 250) : Math.round(base * (0.75 + Math.random() * 0.5));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.running) return;
      this.connect().catch((err: unknown) => {
        this.failures++;
        this.log.warn({ err: errorMessage(err), failures: this.failures }, 'slack socket mode reconnect failed; retrying');
        this.retryLater(this.failures);
      });
    }, delay);
  }

  private async onEnvelope(e: SocketEvent): Promise<void> {
    const ack = async (): Promise<void> => {
      try {
        await e.ack();
      } catch (err) {
        this.log.warn({ envelopeId: e.envelope_id, err: errorMessage(err) }, 'could not acknowledge a Slack envelope');
      }
    };
    if (e.type !== 'interactive' || !this.accepting) {
      if (!this.accepting) this.log.warn({ type: e.type }, 'slack envelope while stopping: acknowledged, not handled');
      return ack();
    }
    const work = (async () => {
      const handled = this.o.handle(e.body).catch((err: unknown): SlackSocketAnswer => {
        this.log.error({ err: errorMessage(err) }, 'slack interaction failed');
        return { status: 500, body: { error: 'internal error' } };
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), this.o.ackBudgetMs ?? SOCKET_ACK_BUDGET_MS)));
      const answer = await Promise.race([handled, late]);
      clearTimeout(timer);
      await ack();
      if (answer && answer.status >= 400) this.log.warn({ status: answer.status, error: answer.body['error'] }, 'slack interaction not acted on');
    })();
    this.inflight.add(work);
    try {
      await work;
    } finally {
      this.inflight.delete(work);
    }
  }
}

/** Slack's answers to apps.connections.open that retrying with the same token will not change. */
const REFUSALS: ReadonlySet<string> = new Set([...Object.values(UnrecoverableSocketModeStartError), 'not_allowed_token_type', 'token_revoked', 'token_expired', 'missing_scope', 'app_missing_action_url']);

/** Slack answered `ok: false` with a refusal of the token (invalid_auth, not_allowed_token_type, …). */
function isRefusal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; data?: { error?: unknown } };
  return e.code === ErrorCode.PlatformError && typeof e.data?.error === 'string' && REFUSALS.has(e.data.error);
}

/** What the SDK hands a `slack_event` listener. */
interface SocketEvent {
  readonly ack: (response?: Record<string, unknown>) => Promise<void>;
  readonly envelope_id: string;
  readonly type: string;
  readonly body: unknown;
}

