/**
 * MCP over streamable HTTP at /mcp on the daemon, stateless (no session: any task behind a load balancer
 * can answer any request). Every request needs a bearer token: a reader token from `mcp.readers`, or an
 * approver's token when `mcp.approverTokens` allows it — either way the caller can only read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { approverForToken } from '../approval/approver-tokens.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { bearerToken, readBody, sendJson } from '../server/http.js';
import { buildMcpServer, type McpServerDeps } from './mcp-server.js';

export const MCP_PATH = '/mcp';
const MAX_MCP_BODY = 1024 * 1024;

/** Who the token belongs to (`reader:NAME` or `approver:NAME`), or null. */
export function mcpCaller(policy: CompiledPolicy, token: string | null): string | null {
  const reader = approverForToken(policy.doc.mcp.readers, token);
  if (reader) return `reader:${reader}`;
  if (!policy.doc.mcp.approverTokens) return null;
  const approver = approverForToken(policy.doc.approvers, token);
  return approver ? `approver:${approver}` : null;
}

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => Promise<boolean>;

/** The /mcp route for the daemon's HTTP server (an `extraRoutes` entry). */
export function mcpHttpRoute(deps: McpServerDeps): { route: ExtraRoute; close: () => Promise<void> } {
  const handler = createMcpHandler((ctx) => buildMcpServer(deps, ctx.authInfo?.clientId ?? 'unknown'), { maxRequestBodySize: MAX_MCP_BODY });
  const route: ExtraRoute = async (req, res, path) => {
    if (path !== MCP_PATH) return false;
    if (!deps.policy.doc.mcp.http) {
      sendJson(res, 404, { error: 'MCP over HTTP is off (mcp.http: false)' });
      return true;
    }
    const token = bearerToken(req);
    const caller = mcpCaller(deps.policy, token);
    if (!token || !caller) {
      res.setHeader('www-authenticate', 'Bearer realm="cloudops-watcher"');
      sendJson(res, 401, { error: 'MCP needs a bearer token: a reader token from mcp.readers, or an approver token (Authorization: Bearer …)' });
      return true;
    }
    const body = req.method === 'POST' ? await readBody(req, MAX_MCP_BODY) : undefined;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const request = new Request(`http://localhost${req.url ?? MCP_PATH}`, { method: req.method ?? 'GET', headers, signal: abort.signal, ...(body && body.length > 0 ? { body } : {}) });
    const response = await handler.fetch(request, { authInfo: { token, clientId: caller, scopes: ['read'] } });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out);
    if (!response.body) {
      res.end();
      return true;
    }
    Readable.fromWeb(response.body).pipe(res);
    return true;
  };
  return { route, close: () => handler.close() };
}
