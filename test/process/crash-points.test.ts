import { describe, expect, it } from 'vitest';
import { runCrashPoint } from '../../bench/reliability/crash-points.js';

/**
 * The fault hook in a real daemon process (CLOUDOPS_FAULT_KILL_AT): SIGKILL at a lifecycle write,
 * restart, finish. The same runs as `npm run bench:reliability`'s crash points, two of them here.
 */
describe('SIGKILL at a lifecycle write, then a restart', () => {
  it('after the cloud call, before step.finished is written: the restart finds the step done in the cloud and does not run it again', async () => {
    const o = await runCrashPoint('step.finished:before');
    expect(o.reached).toBe(true);
    expect(o.problems).toEqual([]);
    expect(o.doubleExecutions).toBe(0);
    expect(o.auditOk).toBe(true);
    expect(o.finalState).toBe('resolved');
  }, 240_000);

  it('right after the approval is written, before the approver is answered: the approval survives and is acted on', async () => {
    const o = await runCrashPoint('decision.recorded:after');
    expect(o.reached).toBe(true);
    expect(o.problems).toEqual([]);
    expect(o.lostApprovals).toBe(0);
    expect(o.finalState).toBe('resolved');
  }, 240_000);
});
