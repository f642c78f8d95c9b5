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
import { buildWorld, openStore } from '../compose.js';
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
      const world = buildWorld(policy, { store, logger, notifiers: () => [], publicUrl: '', dataDir: join(storePath, '..') });
      const publicUrl = o.publicUrl ?? policy.doc.server.publicUrl ?? `http://127.0.0.1:${policy.doc.server.port}`;
      const deps = mcpDepsFrom(world.deps, () => publicUrl);
      const caller = `stdio:${safeUser()}`;
      const handle = serveStdio(() => buildMcpServer(deps, caller), { onerror: (err) => logger.warn({ stage: 'mcp', err: errorMessage(err) }, 'mcp error') });
      const shutdown = (): void => {
        void handle
          .close()
          .catch(() => undefined)
          .finally(() => {
            world.release();
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
