import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { leaseOwnerId, ownerCertainlyDead, pidRuns, pidSpace } from '../../src/store/lease-owner.js';

describe('lease owner ids and certain death', () => {
  const space = 'a1b2c3d4e5f6';

  it('an id names host, pid, pid space and a random suffix; two ids of one process differ', () => {
    const id = leaseOwnerId(space, 4242);
    expect(id).toMatch(/^[^/]+\/4242\/a1b2c3d4e5f6\/[0-9a-f]{8}$/);
    expect(leaseOwnerId(space, 4242)).not.toBe(id);
    expect(leaseOwnerId(null, 7)).toMatch(/\/7\/unknown\//);
  });

  it('a holder in our pid space whose pid is gone is certainly dead; a running one is not', () => {
    expect(ownerCertainlyDead(leaseOwnerId(space, 4242), space, () => false)).toBe(true);
    expect(ownerCertainlyDead(leaseOwnerId(space, 4242), space, () => true)).toBe(false);
  });

  it('never judged dead: another pid space, an unknown space, our own pid, or an id that does not parse', () => {
    const gone = (): boolean => false;
    expect(ownerCertainlyDead(leaseOwnerId('ffffffffffff', 4242), space, gone)).toBe(false);
    expect(ownerCertainlyDead(leaseOwnerId(null, 4242), space, gone)).toBe(false);
    expect(ownerCertainlyDead(leaseOwnerId(space, 4242), null, gone)).toBe(false);
    expect(ownerCertainlyDead(leaseOwnerId(space, process.pid), space, gone)).toBe(false);
    for (const bad of ['', 'a', 'host/12/a1b2c3d4e5f6', 'host/x/a1b2c3d4e5f6/abcd', 'a/b/host/12/a1b2c3d4e5f6/abcd']) expect(ownerCertainlyDead(bad, space, gone)).toBe(false);
  });

  it('on this machine: a finished child process is dead, this one runs', () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(child.stdout);
    expect(pidRuns(process.pid)).toBe(true);
    expect(pidRuns(pid)).toBe(false);
    const here = pidSpace();
    if (here === null) throw new Error('this test needs /proc (Linux)');
    expect(ownerCertainlyDead(leaseOwnerId(here, pid))).toBe(true);
    expect(ownerCertainlyDead(leaseOwnerId(here, process.ppid))).toBe(false);
  });
});
