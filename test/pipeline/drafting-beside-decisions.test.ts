import { describe, expect, it } from 'vitest';
import { SECOND } from '../helpers/units.js';
import { MINUTE } from '../../src/core/time.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { Planner } from '../../src/runbook/planner.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';

describe('drafting never blocks decisions', () => {
  it('an approval arriving while another incident drafts for 60 virtual seconds is acted on within one second', async () => {
    // Prepare: one incident awaiting approval (drafted by the template planner), then a slow planner.
    const files = demoFiles();
    let slow = false;
    let slowStarted = false;
    let slowSignal: AbortSignal | null = null;
    const w = fastWorld(files, {
      planner: (template): Planner => ({
        kind: 'agent',
        async draft(inc, signal) {
          if (!slow) return template.draft(inc, signal);
          slowStarted = true;
          slowSignal = signal;
          await w.clock.sleep(60 * SECOND, signal);
          return template.draft(inc, signal);
        },
      }),
    });
    const a = await seedCheckoutIncident(w, 'checkout-a');
    const watcher = new Watcher(w.deps);
    await watcher.runCycle();
    const awaiting = await w.store.getIncident(a.id);
    if (awaiting?.state !== 'awaiting_approval' || !awaiting.runbook) throw new Error(`not proposed: ${awaiting?.state}`);
    slow = true;
    const b = await seedCheckoutIncident(w, 'checkout-b');
    await watcher.cycle();
    expect(slowStarted).toBe(true);
    expect((await w.store.getIncident(b.id))?.state).toBe('drafting');

    // Act: approve A while B drafts.
    const t0 = performance.now();
    const res = await watcher.decide({ incidentId: a.id, approver: 'alice', verdict: 'approve', runbookHash: awaiting.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.queueIdle();
    const executedWithin = performance.now() - t0;

    // Assess: approved and executed in well under a second while B's draft still waits on its planner.
    expect(res.outcome).toBe('approved');
    expect(executedWithin).toBeLessThan(1000);
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.getIncident(a.id))?.state).toBe('verifying');
    expect((await w.store.getIncident(b.id))?.state).toBe('drafting');
    expect((slowSignal as AbortSignal | null)?.aborted).toBe(false);

    // The slow draft then finishes on its own time and is proposed.
    w.clock.advance(61 * SECOND);
    await watcher.lane.idle();
    expect((await w.store.getIncident(b.id))?.state).toBe('awaiting_approval');
  });

  it('a draft past pipeline.draftTimeout is aborted through its signal and counted as a failed attempt', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, draftTimeout: '30s' }));
    let seen: AbortSignal | null = null;
    const w = fastWorld(files, {
      planner: (): Planner => ({
        kind: 'agent',
        async draft(_inc, signal) {
          seen = signal;
          await w.clock.sleep(10 * MINUTE, signal);
          throw new Error('unreachable');
        },
      }),
    });
    const inc = await seedCheckoutIncident(w);
    const watcher = new Watcher(w.deps);
    await watcher.cycle();
    w.clock.advance(31 * SECOND);
    await watcher.lane.idle();
    expect((seen as AbortSignal | null)?.aborted).toBe(true);
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('drafting');
    expect(now?.drafting).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/passed its deadline/) });
  });
});
