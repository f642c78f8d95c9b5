import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoPolicyFile, pauseOutsideWriteLock, stepsStarted } from '../helpers/daemon-files.js';
import { getJson, startDaemonProcess, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';

/**
 * Two real daemons on one data directory (one SQLite file), as an ECS rolling deploy on one EFS volume
 * runs them: one leads, the other follows, and an approved step runs once whatever happens to the leader.
 */

const SPEED = '120';
const LEASE_TTL_S = 3;
const running: DaemonProcess[] = [];
afterEach(() => {
  for (const d of running.splice(0)) {
    d.child.kill('SIGCONT');
    d.child.kill('SIGKILL');
  }
});

/** The demo policy with a short lease, written beside the data dir (paths made absolute). */
const policyFile = (dir: string): string => demoPolicyFile(dir, (doc) => {
  doc['pipeline'] = { ...(doc['pipeline'] ?? {}), leaseTtl: `${LEASE_TTL_S}s` };
});

async function start(dir: string, policy: string): Promise<DaemonProcess> {
  // A slow action: the step is still running while the other daemon is watching.
  // Two daemons start at once: allow for a loaded machine (startup is tsx compiling the sources).
  const d = await startDaemonProcess(['--policy', policy, '--data-dir', dir, '--speed', SPEED], { CLOUDOPS_SIM_ACTION_LATENCY_MS: '3000' }, 60_000);
  running.push(d);
  return d;
}

/** Both daemons started together (startup is most of a process test's time); returns them as leader and follower. */
async function pair(dir: string, policy: string): Promise<{ leader: DaemonProcess; follower: DaemonProcess }> {
  const [x, y] = await Promise.all([start(dir, policy), start(dir, policy)]);
  const roles = await waitFor('one leader and one follower', async () => {
    const r = [(await ready(x)).role, (await ready(y)).role];
    return r.includes('leader') && r.includes('follower') ? r : null;
  }, 15_000);
  return roles[0] === 'leader' ? { leader: x, follower: y } : { leader: y, follower: x };
}

const ready = (d: DaemonProcess): Promise<{ ready: boolean; why: string; role?: string }> => getJson(`${d.url}/readyz`);

async function awaiting(d: DaemonProcess): Promise<{ id: string; runbookHash: string }> {
  return waitFor('a proposal awaiting approval', async () => (await getJson(`${d.url}/api/incidents?state=awaiting_approval`)).incidents[0], 25_000);
}

function approve(d: DaemonProcess, id: string, hash: string): Promise<Response> {
  return fetch(`${d.url}/api/incidents/${id}/approve`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
    body: JSON.stringify({ runbookHash: hash }),
  });
}

async function resolved(d: DaemonProcess, id: string): Promise<any> {
  let last: any = null;
  return waitFor('resolved', async () => {
    last = (await getJson(`${d.url}/api/incidents/${id}`)).incident;
    return last.state === 'resolved' ? last : null;
  }, 25_000).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify({ state: last?.state, reason: last?.reason, steps: last?.steps })}\n${running.map((r) => r.output().slice(-4000)).join('\n----\n')}`);
  });
}

describe('two daemons on one SQLite file: one writer by lease', () => {
  it('the second daemon follows (read-only, says so in /readyz); an approval posted to it is run by the leader, and the slow step starts exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-two-'));
    const policy = policyFile(dir);
    const { leader: a, follower: b } = await pair(dir, policy);
    const rb = await ready(b);
    expect(rb.role).toBe('follower');
    expect(rb.why).toMatch(/; not the leader: lease held by .+ until \d{4}-\d\d-\d\dT/);

    const inc = await awaiting(b);
    const res = await approve(b, inc.id, inc.runbookHash);
    expect(res.status).toBe(200);
    await waitFor('the step to start', async () => stepsStarted(dir).length > 0, 15_000);
    const done = await resolved(a, inc.id);

    expect(done.steps).toHaveLength(1);
    const started = stepsStarted(dir);
    expect(started).toHaveLength(1);
    expect(started[0]?.data['fence']).toBe(1);
    expect((await ready(b)).role).toBe('follower');
    expect((await ready(a)).role).toBe('leader');
  }, 120_000);

  it('SIGSTOP the leader past its lease: the other takes over; SIGCONT the old one: it executes nothing and follows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-two-stop-'));
    const policy = policyFile(dir);
    const { leader: a, follower: b } = await pair(dir, policy);
    const inc = await awaiting(b);

    await pauseOutsideWriteLock(a, dir);
    const t0 = Date.now();
    await waitFor('b takes over', async () => (await ready(b)).role === 'leader', 15_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; b: ${JSON.stringify(await ready(b))}\n${b.output().slice(-4000)}`);
    });
    const failoverS = (Date.now() - t0) / 1000;
    // Not before the lease expired (it was renewed at most a third of the TTL before the stop) …
    expect(failoverS).toBeGreaterThan((LEASE_TTL_S * 2) / 3 - 0.5);
    // … and soon after: within the TTL and one renewal interval.
    expect(failoverS).toBeLessThan(LEASE_TTL_S * (1 + 1 / 3) + 2);

    expect((await approve(b, inc.id, inc.runbookHash)).status).toBe(200);
    await waitFor('the step to start', async () => stepsStarted(dir).length > 0, 15_000);
    // The old leader wakes up while the new one's slow step runs: it sees a step "started" by somebody.
    a.child.kill('SIGCONT');
    await waitFor('a follows', async () => (await ready(a)).role === 'follower', 10_000);
    const done = await resolved(b, inc.id);

    const started = stepsStarted(dir);
    expect(started).toHaveLength(1);
    expect(started[0]?.data['fence']).toBe(2);
    expect(done.steps).toHaveLength(1);
    expect(done.steps[0].status).toBe('succeeded');
    expect((await ready(a)).why).toMatch(/; not the leader: lease held by /);
  }, 120_000);
});
