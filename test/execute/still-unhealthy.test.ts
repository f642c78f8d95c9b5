import { describe, expect, it } from 'vitest';
import { stillUnhealthy } from '../../src/execute/step-outcome.js';
import type { Incident } from '../../src/incident/incident.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { nextVersion } from '../../src/store/store.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

/** Approves the demo incident in a process that may not start steps (not the leader); answers the approved incident. */
async function approvedNotRun(w: FastWorld): Promise<Incident> {
  const watcher = new Watcher({ ...w.deps, gate: async (_ctx, stage) => (stage === 'execute.step' ? 'not the leader' : null) });
  const seeded = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const p = (await w.store.getIncident(seeded.id))!;
  await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
  await watcher.queueIdle();
  const approved = (await w.store.getIncident(p.id))!;
  expect(['approved', 'executing']).toContain(approved.state);
  expect(approved.steps).toEqual([]);
  return approved;
}

/** What grouping writes when every signal of the incident has been quiet for clear_after. */
async function clearEverySignal(w: FastWorld, inc: Incident): Promise<void> {
  const next = nextVersion(inc, w.clock.now());
  next.signals = next.signals.map((s) => ({ ...s, clearedAt: w.clock.now() }));
  await w.store.updateIncident(next, { at: w.clock.now(), incidentId: inc.id, kind: 'incident.updated', actor: 'test', data: {} });
}

describe('precondition: the service is still unhealthy (issue 12 item 1)', () => {
  it('the service recovered by itself between the approval and the first step: nothing runs, the approval is void with the reason, audited', async () => {
    const w = fastWorld(demoFiles());
    const inc = await approvedNotRun(w);
    await clearEverySignal(w, inc);

    const runner = new Watcher({ ...w.deps, run: new RunState('running') });
    await runner.runCycle();
    await runner.queueIdle();

    const after = (await w.store.getIncident(inc.id))!;
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/^not executed, the approval is void: step 1 is not needed: checkout recovered by itself before any step ran \(every signal cleared by 20\d\d-/);
    expect(w.sim.executeCalls()).toBe(0);
    const failed = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'precondition.failed');
    expect(failed?.data).toMatchObject({ step: 1, code: 'recovered' });
  });

  it('still unhealthy (a signal open) → the step runs', async () => {
    const w = fastWorld(demoFiles());
    const inc = await approvedNotRun(w);

    const runner = new Watcher({ ...w.deps, run: new RunState('running') });
    await runner.runCycle();
    await runner.queueIdle();

    expect(w.sim.executeCalls()).toBe(1);
    expect(['verifying', 'resolved']).toContain((await w.store.getIncident(inc.id))?.state);
  });

  it('once a step has started, a recovering service is that step\'s doing: later steps are not stopped by it', () => {
    const base = { service: 'checkout', signals: [{ clearedAt: 1 }], steps: [] } as unknown as Incident;
    expect(stillUnhealthy(base)).toMatchObject({ ok: false, code: 'recovered' });
    expect(stillUnhealthy({ ...base, steps: [{ index: 0 }] } as unknown as Incident)).toEqual({ ok: true });
    expect(stillUnhealthy({ ...base, signals: [{ clearedAt: 1 }, { clearedAt: null }] } as unknown as Incident)).toEqual({ ok: true });
  });
});
