/**
 * `cloudops mcp --policy FILE`: MCP over stdio for a local assistant, reading the same store and the same
 * cloud (read calls only) as the daemon. The caller is the local user who started it (`stdio:USER`):
 * whoever can run this can read the store file anyway; every call is still audited and rate-limited.
 * stdout carries the protocol; logs go to stderr.
 */
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { pino } from 'pino';
import type { Command } from 'commander';
import { buildWorld, openStore, shardAwsPorts } from '../compose.js';
import type { CompiledShard } from '../policy/compile.js';
import { routedSources } from '../pipeline/routed-sources.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { compilePolicy } from '../policy/compile.js';
import { loadPolicyFile, PolicyInvalidError } from '../policy/load.js';
import { mcpDepsFrom } from './mcp-deps.js';
import { buildMcpServer } from './mcp-server.js';

export function registerMcp(program: Command, fail: (message: string, code?: number) => never): void {
  program
    .command('mcp')
    .description('serve read-only MCP over stdio (incidents, evidence, correlation, audit, bounded metric and log queries); nothing it offers can approve or execute')
    .requiredOption('--policy <file>', 'policy YAML', process.env['CLOUDOPS_POLICY'])
    .option('--data-dir <dir>', 'as given to run (default: CLOUDOPS_DATA_DIR or the current directory)')
    .option('--public-url <url>', 'base URL of the incident pages, for links (default: server.publicUrl)')
    .action((o: { policy: string; dataDir?: string; publicUrl?: string }) => {
      let policy;
      try {
        policy = compilePolicy(loadPolicyFile(o.policy).policy, o.policy);
      } catch (err) {
        return fail(errorMessage(err), err instanceof PolicyInvalidError ? 2 : 1);
      }
      const dataDir = resolve(o.dataDir ?? process.env['CLOUDOPS_DATA_DIR'] ?? '.');
      const storePath = policy.storePath && !isAbsolute(policy.storePath) ? join(dataDir, policy.storePath) : (policy.storePath ?? join(dataDir, 'cloudops.db'));
      const logger = createLogger({ level: 'warn', destination: pino.destination(2) });
      const store = openStore(policy, storePath);
      // A policy with `accounts`: one world per shard (account, region), each query sent to the one it is about.
      const sharded = policy.doc.accounts !== undefined;
      const shardPorts = sharded && policy.doc.cloud.kind === 'aws' ? shardAwsPorts(policy) : null;
      const shards: readonly (CompiledShard | null)[] = sharded ? policy.shards : [null];
      const worlds = shards.map((shard) =>
        buildWorld(policy, { store, logger, notifiers: () => [], publicUrl: '', dataDir: join(storePath, '..'), ...(shard ? { shard } : {}), ...(shard && shardPorts ? { awsPorts: shardPorts.get(shard.key) } : {}) }),
      );
      const world = worlds[0] as (typeof worlds)[number];
      const routed = routedSources(policy, worlds.map((w, i) => ({ shard: shards[i] ?? null, metrics: w.deps.metrics, logs: w.deps.logs, deployments: w.deps.deployments })));
      const publicUrl = o.publicUrl ?? policy.doc.server.publicUrl ?? `http://127.0.0.1:${policy.doc.server.port}`;
      const deps = mcpDepsFrom({ ...world.deps, store, policy, metrics: routed.metrics, logs: routed.logs, deployments: routed.deployments }, () => publicUrl, (svc) => routed.placesOf(svc));
      const caller = `stdio:${safeUser()}`;
      const handle = serveStdio(() => buildMcpServer(deps, caller), { onerror: (err) => logger.warn({ stage: 'mcp', err: errorMessage(err) }, 'mcp error') });
      const shutdown = (): void => {
        void handle
          .close()
          .catch(() => undefined)
          .finally(() => {
            for (const w of worlds) w.release();
            shardPorts?.destroy();
            void store.close().finally(() => process.exit(0));
          });
      };
      process.stdin.on('end', shutdown);
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
    });
}

function safeUser(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'local';
  } catch {
    return 'local';
  }
}
