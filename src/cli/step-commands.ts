import type { Command } from 'commander';
import { demoToken } from '../daemon.js';
import { daemonUrlOption, postToDaemon, type Fail } from './daemon-post.js';

/** The request `cloudops step done` sends (exported for tests: what goes over the wire). */
export function stepDoneRequest(id: string, step: string, o: { as: string; note?: string }, token: string): { path: string; init: RequestInit } {
  return {
    path: `/api/incidents/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/done`,
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      // `via` makes the audit say the CLI marked it; the server takes it only with the approver's token.
      body: JSON.stringify({ as: o.as, via: 'cli', ...(o.note !== undefined ? { note: o.note } : {}) }),
    },
  };
}

/**
 * `cloudops step done ID N --as NAME [--note …]`: a person did manual step N and hands the run back, sent
 * to the daemon's JSON API with the approver's token (CLOUDOPS_TOKEN, else the demo token).
 */
export function registerStepCommands(program: Command, fail: Fail): void {
  const step = program.command('step').description('manual runbook steps: a person does them and marks them done');
  step
    .command('done <id> <n>')
    .description('mark manual step N of an incident done; the run continues with the next step')
    .requiredOption('--as <name>', 'approver name')
    .option('--note <text>', 'what was done')
    .option('--json', 'machine-readable output')
    .addOption(daemonUrlOption())
    .action(async (id: string, n: string, o: { as: string; note?: string; url: string; json?: boolean }) => {
      if (!/^[1-9][0-9]{0,3}$/.test(n)) return fail(`step must be a number from 1 (as the page numbers them), got "${n}"`, 2);
      await postToDaemon(stepDoneRequest(id, n, o, process.env['CLOUDOPS_TOKEN'] ?? demoToken(o.as)), id, o, fail);
    });
}
