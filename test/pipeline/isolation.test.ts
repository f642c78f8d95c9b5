import { describe, expect, it } from 'vitest';
import type { ActionTarget } from '../../src/cloud/ports.js';
import { TransientError } from '../../src/core/errors.js';
import { MINUTE } from '../../src/core/time.js';
import type { PipelineMetrics } from '../../src/pipeline/metrics.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { Incident } from '../../src/incident/incident.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

async function proposed(w: FastWorld, watcher: Watcher, id: string): Promise<Incident & { runbook: NonNullable<Incident['runbook']> }> {
  await watcher.runCycle();
  const inc = await w.store.getIncident(id);
  if (inc?.state !== 'awaiting_approval' || !inc.runbook) throw new Error(`${id} not proposed: ${inc?.state} ${inc?.reason}`);
  return inc as Incident & { runbook: NonNullable<Incident['runbook']> };
}

describe('per-incident isolation', () => {
  it("one incident's failure is recorded on it, audited and counted, and the others go on in the same cycle", async () => {
    // Prepare: two incidents awaiting approval; reading decisions of the first one throws.
    const files = demoFiles();
    const failures: string[] = [];
    const w = fastWorld(files);
    const metrics: PipelineMetrics = { stageFailed: (s) => failures.push(s), cycleEnded: () => undefined };
    const deps = { ...w.deps, pipelineMetrics: metrics };
    const watcher = new Watcher(deps);
    await seedCheckoutIncident(w, 'checkout-a');
    await seedCheckoutIncident(w, 'checkout-b');
    await proposed(w, watcher, 'checkout-a');
    const b = await w.store.getIncident('checkout-b');
    expect(b?.state).toBe('awaiting_approval');
    const listDecisions = w.store.listDecisions.bind(w.store);
    w.store.listDecisions = async (id) => (id === 'checkout-a' ? Promise.reject(new Error('disk said no')) : listDecisions(id));

    // Act: b expires in this cycle; a cannot be decided.
    w.clock.advance(files.policy.ttlMs + MINUTE);
    await watcher.runCycle();

    // Assess
    const a = await w.store.getIncident('checkout-a');
    expect((await w.store.getIncident('checkout-b'))?.state).toBe('expired');
    expect(a?.state).toBe('awaiting_approval');
    expect(a?.failures?.at(-1)).toMatchObject({ stage: 'decide', error: 'disk said no', retryable: false });
    expect((await w.store.listAudit({ incidentId: 'checkout-a' })).some((r) => r.kind === 'stage.failed' && r.data['stage'] === 'decide')).toBe(true);
    expect(failures).toContain('decide');
    expect(watcher.lastError).toMatch(/decide \(checkout-a\): disk said no/);
    // A cycle with one incident failing is still a successful cycle for readiness.
    expect(watcher.lastSuccessMono).not.toBeNull();
  });

  it('a cycle-wide stage failing (observe) leaves decisions and expiry running', async () => {
    // Prepare: proposed while CloudWatch answers, then CloudWatch goes down.
    const files = demoFiles();
    let down = false;
    const w = fastWorld(files, { metrics: (inner) => ({ fetch: async (...a) => (down ? Promise.reject(new TransientError('CloudWatch is down')) : inner.fetch(...a)) }) });
    const watcher = new Watcher(w.deps);
    await seedCheckoutIncident(w);
    const inc = await proposed(w, watcher, 'checkout-20261102-0803');
    down = true;

    // Act: past the TTL with observing failing.
    w.clock.advance(files.policy.ttlMs + MINUTE);
    await watcher.runCycle();

    // Assess: the cycle is not successful, but the request still expired (nothing ran).
    expect(watcher.lastError).toMatch(/observe: CloudWatch is down/);
    expect((await w.store.getIncident(inc.id))?.state).toBe('expired');
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('a retryable failure of a step is not retried blindly: the step fails and a person takes over', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, retries: 3, retryBackoff: '1ms' }));
    let executes = 0;
    const w = fastWorld(files, {
      actions: (inner): ActionTarget => ({
        execute: async () => {
          executes++;
          throw new TransientError('Throttling');
        },
        check: (...a) => inner.check(...a),
      }),
    });
    const watcher = new Watcher(w.deps);
    await seedCheckoutIncident(w);
    const inc = await proposed(w, watcher, 'checkout-20261102-0803');
    await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.drain();
    expect(executes).toBe(1);
    expect((await w.store.getIncident(inc.id))?.state).toBe('needs_human');
  });
});
