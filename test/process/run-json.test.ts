import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

let child: ChildProcess | null = null;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

/** Waits until `lines` holds a line matching `pred`, or fails after `ms`. */
async function waitLine(lines: () => unknown[], pred: (e: Record<string, unknown>) => boolean, what: string, ms = 60_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const hit = lines().find((e) => pred(e as Record<string, unknown>));
    if (hit) return hit as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} line in ${ms} ms`);
}

describe('cloudops run --json (issue 15 item 13)', () => {
  it('stdout is JSON lines only: started, opened, proposed, decided, resolved, and a summary after SIGTERM', async () => {
    // Prepare: the demo daemon as a real process, stdout and stderr apart.
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-run-json-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--json', '--policy', 'config/demo.yaml', '--data-dir', dir, '--port', '0', '--speed', '120', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    // Every complete line must parse: a human sentence on stdout would throw here.
    const lines = (): unknown[] => out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown);

    // Act: wait for the proposal, approve it through the API, wait for the end, stop the daemon.
    const started = await waitLine(lines, (e) => e['type'] === 'run.started', 'run.started');
    const proposal = await waitLine(lines, (e) => e['type'] === 'incident.proposed', 'incident.proposed');
    const res = await fetch(`${String(started['url'])}/api/incidents/${encodeURIComponent(String(proposal['incidentId']))}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
      body: JSON.stringify({ runbookHash: proposal['runbookHash'] }),
    });
    expect(res.status).toBe(200);
    await waitLine(lines, (e) => e['type'] === 'incident.resolved' && e['incidentId'] === proposal['incidentId'], 'incident.resolved');
    child.kill('SIGTERM');
    const code = await exited;

    // Assess
    expect(code).toBe(0);
    const all = lines() as Record<string, unknown>[];
    expect(out.endsWith('\n')).toBe(true);
    expect(all.length).toBe(out.trim().split('\n').length);
    const forIt = all.filter((e) => e['incidentId'] === proposal['incidentId']).map((e) => e['type']);
    expect(forIt[0]).toBe('incident.opened');
    expect(forIt).toContain('incident.decided');
    expect(forIt.indexOf('incident.proposed')).toBeLessThan(forIt.indexOf('incident.decided'));
    expect(forIt.at(-1)).toBe('incident.resolved');
    expect(all.find((e) => e['type'] === 'incident.decided')).toMatchObject({ approver: 'alice', verdict: 'approve', channel: 'api' });
    const summary = all.at(-1);
    expect(summary?.['type']).toBe('run.summary');
    expect((summary?.['byState'] as Record<string, number>)['resolved']).toBeGreaterThanOrEqual(1);
    // Logs and the console channel's text went to stderr.
    expect(err).toMatch(/"msg":"cloudops-watcher started"/);
    expect(out).not.toContain('cloudops-watcher is watching');
  }, 120_000);
});
