import { describe, expect, it } from 'vitest';
import { MINUTE, addMs, type EpochMs } from '../../src/core/time.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { nextVersion } from '../../src/store/store.js';
import { DEMO_T0, demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

const N = 2;

/** N steps claimed against the budget at `at` (each in its own incident), as the executor claims them. */
async function spendSteps(w: FastWorld, at: EpochMs): Promise<void> {
  for (let k = 0; k < N; k++) {
    const inc = newIncident(`earlier-${k}`, 'payments', [], at);
    await w.store.createIncident(inc, { at, incidentId: inc.id, kind: 'incident.opened', actor: 'test', data: {} });
    await w.store.updateIncident({ ...nextVersion(inc, at), state: 'executing' }, { at, incidentId: inc.id, kind: 'step.started', actor: 'executor', data: { step: 1 } }, undefined, { budget: { at, max: N } });
  }
}

/** The demo's checkout incident proposed and approved at 08:10; what the executor did with its first step. */
async function approveAndRun(w: FastWorld): Promise<{ state: string | undefined; calls: number; denied: unknown[] }> {
  const watcher = new Watcher(w.deps);
  const inc = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const proposed = await w.store.getIncident(inc.id);
  if (!proposed?.runbook) throw new Error('not proposed');
  await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' });
  await watcher.queueIdle();
  const denied = (await w.store.listAudit({ incidentId: inc.id })).filter((r) => r.kind === 'authorize.denied').map((r) => r.data['reason']);
  return { state: (await w.store.getIncident(inc.id))?.state, calls: w.sim.executeCalls(), denied };
}

describe('the blast-radius budget across a clock-hour boundary (N steps per hour)', () => {
  const files = demoFiles((doc) => {
    doc.safety.maxActionsPerHour = N;
  });
  // The world's clock is at 08:10: the claim falls in the 08:00 hour, whose counter is empty.
  const at = addMs(DEMO_T0, 10 * MINUTE);

  it('N steps at 07:59:30 and one more at 08:10 is refused: within 60 minutes, although the new hour\'s counter is empty', async () => {
    // Prepare
    const w = fastWorld(files, {}, at);
    await spendSteps(w, addMs(DEMO_T0, -30_000));
    expect(await w.store.stepsInHour(at)).toBe(0);

    // Act
    const r = await approveAndRun(w);

    // Assess: the audit count over the last hour holds what the bucket alone would let through (2N in 11 minutes).
    expect(r.denied).toEqual(['budget_spent']);
    expect(r.state).toBe('needs_human');
    expect(r.calls).toBe(0);
    expect(await w.store.stepsInHour(at)).toBe(0);
  });

  it('N steps more than an hour earlier (07:09) leave the budget free: the step at 08:10 runs', async () => {
    const w = fastWorld(files, {}, at);
    await spendSteps(w, addMs(DEMO_T0, -51 * MINUTE));

    const r = await approveAndRun(w);

    expect(r.denied).toEqual([]);
    expect(r.calls).toBe(1);
    expect(await w.store.stepsInHour(at)).toBe(1);
  });
});
