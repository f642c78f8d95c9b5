import { spawn, type ChildProcess } from 'node:child_process';

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

/** The daemon ended, or never printed its address in time; `exit` is its exit code or signal (null: still running, killed). */
export class DaemonStartError extends Error {
  constructor(
    readonly exit: number | string | null,
    readonly output: string,
  ) {
    super(`daemon did not start${exit !== null ? ` (it exited: ${exit})` : ''}:\n${output}`);
    this.name = 'DaemonStartError';
  }
}

/** Starts `cloudops run` as a real process and waits until it prints its address. */
export async function startDaemonProcess(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<DaemonProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /Incidents: (http:\/\/[^/\s]+)\//.exec(out);
    if (m?.[1]) return { child, url: m[1], output: () => out, exited };
    if (child.exitCode !== null || child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const exit = child.exitCode ?? child.signalCode;
  child.kill('SIGKILL');
  throw new DaemonStartError(exit, out);
}

/** Polls `fn` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`);
}

export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}
