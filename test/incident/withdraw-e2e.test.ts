import { describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/core/time.js';
import { rollingZScore } from '../../src/detect/rolling-zscore.js';
import type { Incident } from '../../src/incident/incident.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { simHarness } from '../helpers/sim-harness.js';

const SCENARIO = 'test/fixtures/scenarios/e2e/transient-errors-clear-by-themselves.yaml';

describe('withdrawal on the simulated cloud', () => {
  it('an anomaly that clears by itself before anyone approves withdraws the proposal and runs nothing', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO, ttlMs: 2 * 60 * MINUTE, reminderMs: [] }));
    // A fixed, simple detector: this test is about the lifecycle, not about detection quality.
    const watcher = new Watcher({ ...h.deps, detectorFor: (m) => rollingZScore({ window: 60, threshold: 4.5, direction: m.detector.direction, warmup: 30 }) });
    const states: string[] = [];
    let proposed: Incident | undefined;
    for (let i = 0; i < 45; i++) {
      h.clock.advance(MINUTE);
      await watcher.runCycle();
      expect(watcher.lastError).toBeNull();
      const [inc] = await h.store.listIncidents({ service: 'checkout' });
      if (inc && states.at(-1) !== inc.state) states.push(inc.state);
      if (inc?.state === 'awaiting_approval') proposed = inc;
    }
    watcher.stop();
    expect(states).toEqual(['detected', 'awaiting_approval', 'withdrawn']);
    expect(proposed?.correlation?.suspect).toBeNull();
    expect(proposed?.runbook?.steps[0]?.action).toBe('ecs.forceNewDeployment');
    const done = await h.store.getIncident(proposed?.id ?? '');
    expect(done?.reason).toBe('the anomaly cleared by itself before approval — not executed');
    expect(done?.signals.every((s) => s.clearedAt !== null)).toBe(true);
    // Withdrawn soon after the event ended (14m) and clear_after passed, long before the deadline.
    const withdrawnAt = done?.updatedAt ?? 0;
    expect(withdrawnAt - h.sim.t0).toBeGreaterThanOrEqual(14 * MINUTE + h.policy.clearAfterMs);
    expect(withdrawnAt).toBeLessThan((proposed?.approval?.expiresAt ?? 0) - 60 * MINUTE);
    expect(h.sim.executeCalls()).toBe(0);
    expect(h.notifier.sent.some((a) => a.incidentId === proposed?.id && a.title.includes('withdrawn'))).toBe(true);
  });
});
