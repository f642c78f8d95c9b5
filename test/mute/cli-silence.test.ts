import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, listen } from '../../src/server/server.js';
import { simHarness } from '../helpers/sim-harness.js';

const run = promisify(execFile);

/** Runs `cloudops …` (src/cli.ts through tsx) against the test server; returns exit code and output. */
async function cloudops(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['CLOUDOPS_TOKEN'];
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args, '--url', url], { env, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('cloudops silence add / list / expire', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const h = simHarness();
    server = createHttpServer({ store: h.store, policy: h.policy, clock: h.clock, watcher: h.watcher, logger: h.deps.logger, registry: new Registry(), ready: () => ({ ok: true, why: 'test' }), approveCommand: () => '' });
    url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  afterAll(() => {
    server.close();
  });

  it('adds a silence as an approver, lists it, expires it; bad input exits 1 with the reason', async () => {
    const added = await cloudops(url, 'silence', 'add', '--service', 'checkout', '--metric', 'checkout5xx', '--for', '2h', '--reason', 'load test', '--as', 'alice');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /^(sil-[0-9a-f]{10}): checkout\/checkout5xx silenced until 2026-11-02T10:00:00\.000Z by alice$/m.exec(added.stdout)?.[1];
    expect(id).toBeDefined();

    const listed = await cloudops(url, 'silence', 'list');
    expect(listed.stdout).toContain(`${id}`);
    expect(listed.stdout).toMatch(/service=checkout,metric=checkout5xx\s+until 2026-11-02T10:00:00\.000Z\s+by alice: load test/);

    const bad = await cloudops(url, 'silence', 'add', '--service', 'checkout', '--for', 'forever', '--reason', 'x', '--as', 'alice');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('cloudops: 400: invalid duration "forever" (expected e.g. 30m, 2h, 1d)\n');

    const expired = await cloudops(url, 'silence', 'expire', id ?? '', '--as', 'bob');
    expect(expired.stdout).toBe(`${id}: expired by bob\n`);
    expect((await cloudops(url, 'silence', 'list')).stdout).toBe('no active silences\n');
    expect((await cloudops(url, 'silence', 'list', '--all')).stdout).toMatch(/ended 2026-11-02T08:00:00\.000Z/);
  }, 60_000);
});
