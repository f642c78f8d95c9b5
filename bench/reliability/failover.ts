/**
 * Failover (issue 16 items 4 and 8): two real daemons on one store; the leader is SIGSTOPped (paused
 * past its lease, as a stuck host or a long GC pause) and the seconds until the other one reports
 * itself leader in /readyz are measured, next to the lease TTL they should stay within.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoPolicyFile, pauseOutsideWriteLock } from '../../test/helpers/daemon-files.js';
import { getJson, startDaemonProcess, waitFor, type DaemonProcess } from '../../test/helpers/daemon-process.js';

export interface FailoverResult {
  /** Seconds from the SIGSTOP to the follower's first `role: leader`, one per trial. */
  readonly samples_s: readonly number[];
  readonly failover_s: number;
  readonly lease_ttl_s: number;
}

const role = async (d: DaemonProcess): Promise<string | undefined> => ((await getJson(`${d.url}/readyz`)) as { role?: string }).role;

/** `trials` takeovers, each with a fresh pair; reports the worst (the figure the TTL must bound). */
export async function measureFailover(leaseTtlS: number, trials: number, speed = 120): Promise<FailoverResult> {
  const samples: number[] = [];
  for (let t = 0; t < trials; t++) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-failover-'));
    const policy = demoPolicyFile(dir, (doc) => {
      doc['pipeline'] = { ...(doc['pipeline'] ?? {}), leaseTtl: `${leaseTtlS}s` };
    });
    const args = ['--policy', policy, '--data-dir', dir, '--speed', String(speed)];
    const pair = await Promise.all([startDaemonProcess(args, {}, 60_000), startDaemonProcess(args, {}, 60_000)]);
    try {
      const roles = await waitFor('one leader and one follower', async () => {
        const r = [await role(pair[0]), await role(pair[1])];
        return r.includes('leader') && r.includes('follower') ? r : null;
      }, 30_000);
      const [leader, follower] = roles[0] === 'leader' ? pair : [pair[1], pair[0]];
      await pauseOutsideWriteLock(leader, dir);
      const t0 = performance.now();
      // Polled every 50 ms: the figure's resolution.
      for (;;) {
        if ((await role(follower).catch(() => undefined)) === 'leader') break;
        if (performance.now() - t0 > leaseTtlS * 10_000) throw new Error(`no takeover within ${leaseTtlS * 10} s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      samples.push((performance.now() - t0) / 1000);
    } finally {
      for (const d of pair) {
        d.child.kill('SIGCONT');
        d.child.kill('SIGKILL');
      }
    }
  }
  return { samples_s: samples, failover_s: Math.max(...samples), lease_ttl_s: leaseTtlS };
}
