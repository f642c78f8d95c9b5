import type { Command } from 'commander';
import { demoToken } from '../daemon.js';
import { daemonUrlOption, postToDaemon, type Fail } from './daemon-post.js';

/** The request the CLI sends for one follow-up (exported for tests: what goes over the wire). */
export function followUpRequest(id: string, kind: 'repropose' | 'assign' | 'close', o: { as: string; note?: string; to?: string }, token: string): { path: string; init: RequestInit } {
  return {
    path: `/api/incidents/${encodeURIComponent(id)}/${kind}`,
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ as: o.as, ...(o.note !== undefined ? { note: o.note } : {}), ...(o.to !== undefined ? { to: o.to } : {}) }),
    },
  };
}

/**
 * `cloudops repropose|assign|close ID`: a person's next step after expire, reject or a hand-over, sent to
 * the daemon's JSON API with the approver's token (CLOUDOPS_TOKEN, else the demo token).
 */
export function registerFollowUps(program: Command, fail: Fail): void {
  const url = daemonUrlOption;
  const send = (kind: 'repropose' | 'assign' | 'close') => (id: string, o: { as: string; note?: string; to?: string; url: string; json?: boolean }): Promise<void> =>
    postToDaemon(followUpRequest(id, kind, o, process.env['CLOUDOPS_TOKEN'] ?? demoToken(o.as)), id, o, fail);
  program
    .command('repropose <id>')
    .description('ask for approval again after a reject or an expiry (a new request, the next runbook version)')
    .requiredOption('--as <name>', 'approver name')
    .option('--note <text>', 'why')
    .option('--json', 'machine-readable output')
    .addOption(url())
    .action(send('repropose'));
  program
    .command('assign <id>')
    .description('hand an incident to a person after a reject, an expiry or a hand-over')
    .requiredOption('--as <name>', 'approver name')
    .requiredOption('--to <name>', 'who takes it')
    .option('--note <text>', 'why')
    .option('--json', 'machine-readable output')
    .addOption(url())
    .action(send('assign'));
  program
    .command('close <id>')
    .description('close an incident with a note after a reject, an expiry or a hand-over')
    .requiredOption('--as <name>', 'approver name')
    .requiredOption('--note <text>', 'why it is closed')
    .option('--json', 'machine-readable output')
    .addOption(url())
    .action(send('close'));
}
