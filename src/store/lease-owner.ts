import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Lease owner ids, and telling that an owner has certainly died. An id is `host/pid/space/suffix`, where
 * `space` names the process-id space the pid lives in (the kernel's boot id and the pid namespace).
 * Only a process in the same space can ask the kernel whether that pid still runs; everyone else
 * waits for the lease to expire. A pid reused by another process looks alive: the safe mistake.
 */

/** This process's pid space, or null where it cannot be read (then no one judges our liveness early). */
export function pidSpace(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    return createHash('sha256').update(`${boot}\n${ns}`).digest('hex').slice(0, 12);
  } catch {
    return null;
  }
}

/** A fresh owner id for this process. */
export function leaseOwnerId(space: string | null = pidSpace(), pid = process.pid): string {
  return `${hostname()}/${pid}/${space ?? 'unknown'}/${randomUUID().slice(0, 8)}`;
}

/** Whether `pid` runs in this pid space (signal 0 checks without sending anything; EPERM: it runs, as another user). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the process that owns `owner` has certainly ended: its id names our pid space and the
 * kernel has no such pid. Ids from elsewhere, or that do not parse, are never judged dead.
 */
export function ownerCertainlyDead(owner: string, space: string | null = pidSpace(), runs: (pid: number) => boolean = pidRuns): boolean {
  if (space === null) return false;
  const m = /^[^/]*\/(\d+)\/([0-9a-f]{12})\/[^/]+$/.exec(owner);
  if (!m?.[1] || m[2] !== space) return false;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  return !runs(pid);
}
