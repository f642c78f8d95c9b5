import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApprovalError } from '../approval/errors.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Watcher } from '../pipeline/watcher.js';
import type { Store } from '../store/store.js';
import { handleApi } from './api-routes.js';
import { HttpError, sendHtml, sendJson } from './http.js';
import { errorPage, handleWeb } from './web-routes.js';

export interface ServerDeps {
  readonly store: Store;
  readonly policy: CompiledPolicy;
  readonly clock: Clock;
  readonly watcher: Watcher;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Ready when a cycle ran recently and nothing is shutting down. */
  readonly ready: () => { ok: boolean; why: string; role?: 'leader' | 'follower'; shards?: readonly unknown[] };
  /** The terminal command with which `approver` approves the incident. */
  readonly approveCommand: (incidentId: string, approver: string) => string;
  /** Extra route handlers (Slack interactions, email links): return true when handled. */
  readonly extraRoutes?: readonly ((req: IncomingMessage, res: ServerResponse, path: string, url: URL) => Promise<boolean>)[];
}

/** The daemon's HTTP server: health, metrics, the JSON API and the web pages. */
export function createHttpServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    void handle(deps, req, res);
  });
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    sendJson(res, 400, { error: 'bad request URL' });
    return;
  }
  const path = url.pathname;
  const wantsHtml = !path.startsWith('/api/') && !path.startsWith('/slack/');
  try {
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/readyz') {
      const r = deps.ready();
      return sendJson(res, r.ok ? 200 : 503, { ready: r.ok, why: r.why, ...(r.role ? { role: r.role } : {}), ...(r.shards ? { shards: r.shards } : {}) });
    }
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      res.end(await deps.registry.metrics());
      return;
    }
    for (const route of deps.extraRoutes ?? []) if (await route(req, res, path, url)) return;
    if (await handleApi(deps, req, res, path, url)) return;
    if (await handleWeb(deps, req, res, path)) return;
    throw new HttpError(404, `nothing at ${path}`);
  } catch (err) {
    const status = err instanceof HttpError || err instanceof ApprovalError ? err.status : 500;
    const message = status === 500 ? 'internal error' : errorMessage(err);
    if (status === 500) deps.logger.error({ stage: 'http', path, err: errorMessage(err) }, 'request failed');
    if (res.headersSent) return void res.end();
    if (wantsHtml) sendHtml(res, status, errorPage(status, message));
    else sendJson(res, status, { error: message });
  } finally {
    deps.logger.debug({ stage: 'http', method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
  }
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
