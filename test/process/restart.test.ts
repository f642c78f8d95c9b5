import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, startDaemonProcess, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';

const SPEED = '120';
const running: DaemonProcess[] = [];
afterEach(() => {
  for (const d of running.splice(0)) d.child.kill('SIGKILL');
});

async function start(dataDir: string, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const d = await startDaemonProcess(['--policy', 'config/demo.yaml', '--data-dir', dataDir, '--speed', SPEED], env);
  running.push(d);
  return d;
}

async function awaitingIncident(d: DaemonProcess): Promise<any> {
  return waitFor('a proposal awaiting approval', async () => {
    const body = await getJson(`${d.url}/api/incidents?state=awaiting_approval`);
    return body.incidents[0];
  });
}

async function approve(d: DaemonProcess, id: string, hash: string): Promise<Response> {
  return fetch(`${d.url}/api/incidents/${id}/approve`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
    body: JSON.stringify({ runbookHash: hash }),
  });
}

describe('the daemon process survives SIGKILL without losing or repeating anything', () => {
  it('SIGKILL while awaiting approval: after restart the same incident keeps its deadline and approving still works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-kill-'));
    const first = await start(dir);
    const before = await awaitingIncident(first);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await start(dir);
    const after = (await getJson(`${second.url}/api/incidents/${before.id}`)).incident;
    expect(after.state).toBe('awaiting_approval');
    expect(after.approval.expiresAt).toBe(before.expiresAt);
    expect(after.runbook.hash).toBe(before.runbookHash);

    expect((await approve(second, before.id, before.runbookHash)).status).toBe(200);
    const resolved = await waitFor('resolved', async () => {
      const inc = (await getJson(`${second.url}/api/incidents/${before.id}`)).incident;
      return inc.state === 'resolved' ? inc : null;
    });
    expect(resolved.steps).toHaveLength(1);
  }, 120_000);

  it('SIGKILL while a step runs: after restart the step is found done in the cloud and not executed again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-kill-step-'));
    const first = await start(dir, { CLOUDOPS_SIM_ACTION_LATENCY_MS: '4000' });
    const inc = await awaitingIncident(first);
    expect((await approve(first, inc.id, inc.runbookHash)).status).toBe(200);
    await waitFor('the step to start', async () => {
      const cur = (await getJson(`${first.url}/api/incidents/${inc.id}`)).incident;
      return cur.steps[0]?.status === 'started';
    });
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await start(dir);
    const done = await waitFor('resolved after restart', async () => {
      const cur = (await getJson(`${second.url}/api/incidents/${inc.id}`)).incident;
      return cur.state === 'resolved' ? cur : null;
    });
    expect(done.steps[0].status).toBe('skipped_already_done');
    const sim = JSON.parse(readFileSync(join(dir, '.data', 'sim-state.json'), 'utf8')) as { executeCalls: Record<string, number> };
    expect(Object.values(sim.executeCalls)).toEqual([1]);
  }, 120_000);

  it('a deadline that passed while the daemon was down becomes expired on restart, never approval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-kill-expire-'));
    // 600 virtual seconds per wall second: the 60-minute TTL is 6 s of wall time.
    const fast = async (): Promise<DaemonProcess> => {
      const d = await startDaemonProcess(['--policy', 'config/demo.yaml', '--data-dir', dir, '--speed', '600']);
      running.push(d);
      return d;
    };
    const first = await fast();
    const before = await awaitingIncident(first);
    first.child.kill('SIGKILL');
    await first.exited;
    // Down for longer than what was left of the TTL (virtual time follows the wall clock while down).
    await new Promise((r) => setTimeout(r, Math.max(0, (before.expiresAt - before.openedAt) / 600) + 2_000));

    const second = await fast();
    const after = await waitFor('expired after restart', async () => {
      const cur = (await getJson(`${second.url}/api/incidents/${before.id}`)).incident;
      return cur.state === 'expired' ? cur : null;
    });
    expect(after.steps).toHaveLength(0);
    const detail = await getJson(`${second.url}/api/incidents/${before.id}`);
    expect(detail.executedActions).toBe(0);
    // An approval arriving now is refused.
    expect((await approve(second, before.id, before.runbookHash)).status).toBeGreaterThanOrEqual(400);
    const sim = JSON.parse(readFileSync(join(dir, '.data', 'sim-state.json'), 'utf8')) as { executeCalls?: Record<string, number> };
    expect(Object.values(sim.executeCalls ?? {})).toEqual([]);
  }, 120_000);

  it('SIGTERM: stops polling and exits 0 within 10 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-term-'));
    const d = await start(dir);
    await waitFor('ready', async () => (await fetch(`${d.url}/readyz`)).status === 200);
    const t0 = Date.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 60_000);
});
