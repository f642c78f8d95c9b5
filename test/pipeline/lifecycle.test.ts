import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IllegalRunTransitionError, RunState } from '../../src/pipeline/run-state.js';
import { pipelineSettings } from '../../src/pipeline/settings.js';
import { DecisionNotRecordedError, Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';
import { startDemoDaemon } from '../helpers/demo-daemon.js';

describe('the daemon lifecycle', () => {
  it('starting → running → draining → stopped, and nothing else', () => {
    const r = new RunState();
    expect(r.phase).toBe('starting');
    r.to('running');
    expect(() => r.to('starting')).toThrow(IllegalRunTransitionError);
    expect(() => r.to('stopped')).toThrow('the daemon cannot go from running to stopped');
    r.to('draining');
    expect(r.admits()).toBe('the daemon is draining');
    r.to('stopped');
    expect(r.phase).toBe('stopped');
  });

  it('once draining: no cycle, no stage work, no step is started, and a decision is refused', async () => {
    // Prepare: an approved runbook whose execution has not started yet.
    const files = demoFiles();
    const w = fastWorld(files);
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (!proposed?.runbook) throw new Error('not proposed');
    await seedCheckoutIncident(w, 'checkout-later');

    // Act: draining starts, then an approval and a cycle arrive.
    w.deps.run.to('draining');
    const refused = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' }).catch((e: unknown) => e);
    w.clock.advance(files.policy.pollEveryMs);
    const cycle = await watcher.cycle();

    // Assess
    expect(refused).toBeInstanceOf(DecisionNotRecordedError);
    expect(await w.store.listDecisions(inc.id)).toEqual([]);
    expect(cycle).toBe('skipped');
    expect((await w.store.getIncident('checkout-later'))?.state).toBe('detected');
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('a step is not started once draining, even inside a running execution', async () => {
    const files = demoFiles();
    const w = fastWorld(files);
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (!proposed?.runbook) throw new Error('not proposed');
    // Draining begins between the approval and the first step (the approval's own cycle work is queued).
    const decided = watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' });
    const res = await decided;
    w.deps.run.to('draining');
    await watcher.queueIdle();
    expect(res.outcome).toBe('approved');
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('executing');
    expect(now?.steps).toEqual([]);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('the default grace period is below the ECS stopTimeout of the task definition and the ECS default of 30 s', () => {
    const task = JSON.parse(readFileSync('ecs-task.json', 'utf8')) as { containerDefinitions: { stopTimeout?: number }[] };
    const stopTimeoutMs = (task.containerDefinitions[0]?.stopTimeout ?? 30) * 1000;
    const grace = pipelineSettings(demoFiles().policy).shutdownGraceMs;
    expect(grace).toBeLessThan(Math.min(stopTimeoutMs, 30_000));
  });

  it('the daemon reports its phase: running once serving, stopped after stop(); /readyz follows', async () => {
    const d = await startDemoDaemon(() => undefined);
    try {
      expect(d.daemon.run.phase).toBe('running');
      const end = Date.now() + 20_000;
      let ready = await fetch(`${d.daemon.url}/readyz`);
      while (ready.status !== 200 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await fetch(`${d.daemon.url}/readyz`);
      }
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { why: string }).why).toMatch(/^last successful cycle/);
    } finally {
      await d.close();
    }
    expect(d.daemon.run.phase).toBe('stopped');
  });
});
