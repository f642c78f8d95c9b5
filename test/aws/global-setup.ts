import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

/**
 * Starts one moto server on a free loopback port for the whole `npm run test:aws` run and hands its
 * URL to the test files (`inject('motoUrl')`); each file resets it in beforeAll. If moto cannot
 * start, the run fails here — these tests are never skipped.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    motoUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function pythons(): string[] {
  const list = [process.env.MOTO_PYTHON, 'python3', '/root/.pyenv/versions/3.11.7/bin/python'].filter((p): p is string => p !== undefined && p !== '');
  return list.filter((p) => !p.startsWith('/') || existsSync(p));
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto did not answer on ${url} within 30 s:\n${output()}`);
}

let child: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const failures: string[] = [];
  for (const python of pythons()) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let out = '';
    const c = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    const spawnError = new Promise<never>((_, reject) => c.once('error', reject));
    try {
      await Promise.race([waitUntilUp(url, c, () => out), spawnError]);
      child = c;
      project.provide('motoUrl', url);
      break;
    } catch (e) {
      c.kill('SIGKILL');
      failures.push(`${python}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!child) {
    throw new Error(
      `test:aws needs moto and could not start it (install with: pip install 'moto[server]', or set MOTO_PYTHON):\n  ${failures.join('\n  ')}`,
    );
  }
  return async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  };
}
