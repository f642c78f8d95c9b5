import { Option } from 'commander';
import { errorMessage } from '../core/errors.js';

/** How a CLI command gives up: a message on stderr and an exit code (see src/cli.ts). */
export type Fail = (message: string, code?: number) => never;

/** `--url`: the running daemon the command talks to (CLOUDOPS_URL, else the local default). */
export const daemonUrlOption = (): Option => new Option('--url <url>', 'the daemon address').default(process.env['CLOUDOPS_URL'] ?? 'http://127.0.0.1:8080');

/**
 * Sends one person's action to the daemon's JSON API and prints its answer: the reason, or the whole
 * body with --json. The request is bounded (15 s); an unreachable daemon or a refusal fails clearly.
 */
export async function postToDaemon(req: { path: string; init: RequestInit }, id: string, o: { url: string; json?: boolean | undefined }, fail: Fail): Promise<void> {
  let res: Response;
  try {
    res = await fetch(new URL(req.path, o.url), { ...req.init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    return fail(`cannot reach the daemon at ${o.url} (${errorMessage(err)}); is it running? (npm start)`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) return fail(`${res.status}: ${typeof body['error'] === 'string' ? body['error'] : res.statusText}`);
  process.stdout.write(o.json ? `${JSON.stringify(body, null, 2)}\n` : `${id}: ${String(body['reason'])}\n`);
}
