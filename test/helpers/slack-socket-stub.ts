import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { blockActionsBody, type ClickOptions } from './slack-api-stub.js';

/** An apps.connections.open call as the stub received it. */
export interface OpenCall {
  readonly token: string | null;
}

/** A message the client sent over the socket (acks are `{ envelope_id, payload? }`). */
export type SocketMessage = Record<string, unknown> & { readonly envelope_id?: string };

/**
 * A local stand-in for Slack's Socket Mode: one HTTP server that answers `apps.connections.open` (POST,
 * Bearer app token, `{ ok: true, url: "ws://127.0.0.1:PORT/link/?ticket=…" }`) and serves that
 * WebSocket. Each connection gets `hello` first, as Slack sends it; envelopes sent with `send` resolve
 * with the client's ack. Every other Web API method is forwarded to `forwardTo` (a SlackApiStub), so
 * one `apiUrl` serves both the socket and the notifier's chat.* calls.
 */
export class SlackSocketStub {
  readonly opens: OpenCall[] = [];
  /** Everything clients sent over the socket, in order. */
  readonly received: SocketMessage[] = [];
  /** How many WebSocket connections were accepted, and closed, since start. */
  connections = 0;
  closes = 0;
  /** The next apps.connections.open calls answer `{ ok: false, error }` instead, or HTTP 500 for `'http500'`. */
  readonly openFaults: string[] = [];
  /** Whether a connection gets `hello` (a stub that never says hello leaves the client connecting). */
  sayHello = true;
  url = '';
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly live = new Set<WebSocket>();
  private readonly acks = new Map<string, (m: SocketMessage) => void>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly forwardTo?: string) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const send = (status: number, value: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (method === 'apps.connections.open') {
          if (req.method !== 'POST') return send(405, { ok: false, error: 'method_not_allowed' });
          const auth = req.headers.authorization ?? '';
          this.opens.push({ token: auth.startsWith('Bearer ') ? auth.slice(7) : null });
          const fault = this.openFaults.shift();
          if (fault === 'http500') return send(500, { ok: false, error: 'internal_error' });
          if (fault) return send(200, { ok: false, error: fault });
          return send(200, { ok: true, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=${randomUUID()}&app_id=A0TEST` });
        }
        if (!this.forwardTo) return send(404, { ok: false, error: 'unknown_method' });
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'authorization']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
        fetch(`${this.forwardTo}${method}`, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
            res.end(await r.text());
          })
          .catch(() => send(502, { ok: false, error: 'stub_forward_failed' }));
      });
    });
    const wss = new WebSocketServer({ server, path: '/link/' });
    wss.on('connection', (ws) => {
      this.connections++;
      this.live.add(ws);
      ws.on('message', (data: Buffer) => {
        let m: SocketMessage;
        try {
          m = JSON.parse(data.toString('utf8')) as SocketMessage;
        } catch {
          return;
        }
        this.received.push(m);
        const id = m.envelope_id;
        if (id) this.acks.get(id)?.(m);
      });
      ws.on('close', () => {
        this.live.delete(ws);
        this.closes++;
        this.wake();
      });
      if (this.sayHello) ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stub', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0TEST' } }));
      this.wake();
    });
    this.wss = wss;
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
    return this;
  }

  /** Open WebSocket connections right now. */
  get open(): number {
    return this.live.size;
  }

  /**
   * Sends one envelope to every open connection and resolves with the ack for it (rejects after
   * `timeoutMs`: the client never acknowledged).
   */
  send(envelope: { readonly type: string; readonly payload: unknown; readonly accepts_response_payload?: boolean }, timeoutMs = 3_000): Promise<{ ack: SocketMessage; ms: number; envelopeId: string }> {
    if (!this.live.size) return Promise.reject(new Error('no open Socket Mode connection'));
    const envelopeId = randomUUID();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(envelopeId);
        reject(new Error(`envelope ${envelopeId} was not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.acks.delete(envelopeId);
        resolve({ ack, ms: performance.now() - started, envelopeId });
      });
      const text = JSON.stringify({ envelope_id: envelopeId, accepts_response_payload: false, ...envelope });
      for (const ws of this.live) ws.send(text);
    });
  }

  /** A click on Approve or Reject, as the `interactive` envelope Slack sends over Socket Mode. */
  click(o: ClickOptions, timeoutMs?: number): Promise<{ ack: SocketMessage; ms: number; envelopeId: string }> {
    return this.send({ type: 'interactive', payload: blockActionsPayload(o), accepts_response_payload: false }, timeoutMs);
  }

  /** Resolves once `cond` holds (checked on every connect and close), or rejects after `timeoutMs`. */
  async until(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error('condition not reached on the Socket Mode stub');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Closes every connection from the server side (as Slack does when it rotates them). */
  drop(): void {
    for (const ws of this.live) ws.terminate();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const ws of this.live) ws.terminate();
    await new Promise<void>((r) => this.wss?.close(() => r()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The block_actions payload (parsed JSON) of the same click the HTTP helpers sign and POST. */
export function blockActionsPayload(o: ClickOptions): Record<string, unknown> {
  const text = new URLSearchParams(blockActionsBody(o)).get('payload');
  if (text === null) throw new Error('blockActionsBody gave no payload');
  return JSON.parse(text) as Record<string, unknown>;
}
