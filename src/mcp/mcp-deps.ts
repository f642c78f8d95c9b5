/** Builds what the MCP server reads from the pipeline's ports (the daemon's, or the `cloudops mcp` process's own). */
import { readFileSync } from 'node:fs';
import type { PipelineDeps } from '../pipeline/context.js';
import type { SourcePlace } from '../pipeline/routed-sources.js';
import { loadCatalog } from '../runbook/catalog.js';
import type { McpServerDeps } from './mcp-server.js';
import { RateLimiter } from './rate-limit.js';

/** This package's version (served as the MCP server version). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function mcpDepsFrom(deps: Pick<PipelineDeps, 'store' | 'policy' | 'clock' | 'metrics' | 'logs' | 'deployments'>, publicUrl: () => string, placesOf?: (service: string) => readonly SourcePlace[]): McpServerDeps {
  return {
    ...(placesOf ? { placesOf } : {}),
    store: deps.store,
    policy: deps.policy,
    clock: deps.clock,
    metrics: deps.metrics,
    logs: deps.logs,
    deployments: deps.deployments,
    templates: loadCatalog(deps.policy.runbookDir, deps.policy.doc.actions),
    publicUrl,
    version: packageVersion(),
    limiter: new RateLimiter(deps.policy.doc.mcp.ratePerMinute),
    wallNow: () => performance.now(),
  };
}
