import { Option, type Command } from 'commander';
import { errorMessage } from '../core/errors.js';
import { demoToken } from '../daemon.js';

type Fail = (message: string, code?: number) => never;

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
  const url = (): Option => new Option('--url <url>', 'the daemon address').default(process.env['CLOUDOPS_URL'] ?? 'http://127.0.0.1:8080');
  const send = (kind: 'repropose' | 'assign' | 'close') => async (id: string, o: { as: string; note?: string; to?: string; url: string; json?: boolean }): Promise<void> => {
    const { path, init } = followUpRequest(id, kind, o, process.env['CLOUDOPS_TOKEN'] ?? demoToken(o.as));
    let res: Response;
    try {
      res = await fetch(new URL(path, o.url), { ...init, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      return fail(`cannot reach the daemon at ${o.url} (${errorMessage(err)}); is it running? (npm start)`);
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) return fail(`${res.status}: ${typeof body['error'] === 'string' ? body['error'] : res.statusText}`);
    process.stdout.write(o.json ? `${JSON.stringify(body, null, 2)}\n` : `${id}: ${String(body['reason'])}\n`);
  };
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
