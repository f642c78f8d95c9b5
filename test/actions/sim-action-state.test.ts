import { describe, expect, it } from 'vitest';
import type { ActionCall } from '../../src/cloud/ports.js';
import type { SimCloud } from '../../src/cloud/sim/sim-cloud.js';
import { sizedSims } from './sized-sim.js';

/** A sim over one state file; a second one on the same file is the daemon after a restart. */
const sims = (): { open: () => SimCloud } => sizedSims('2026-11-02T09:00:00Z');

const signal = (): AbortSignal => AbortSignal.timeout(2_000);
const scale = (n: number): ActionCall => ({ action: 'ecs.updateService', params: { cluster: 'prod', service: 'api', desiredCount: n } });

describe('the simulated cloud keeps the state its catalogue actions set (issue 12 item 1)', () => {
  it('a scale is remembered: the next preview starts from the new count and prices the change from it, also after a restart', async () => {
    const { open } = sims();
    const sim = open();
    expect((await sim.preview(scale(5), signal())).changes).toEqual(['desiredCount: 2 → 5']);

    expect((await sim.execute(scale(5), 'inc-1/abc/step-1', signal())).ok).toBe(true);

    const after = await sim.preview(scale(3), signal());
    expect(after.summary).toContain('(now 5 desired)');
    expect(after.changes).toEqual(['desiredCount: 5 → 3']);
    expect(after.blast).toEqual({ tasks: 2 });
    expect(after.cost).toMatchObject({ kind: 'fargate', before: { tasks: 5 }, after: { tasks: 3 } });
    const restarted = open();
    expect((await restarted.preview(scale(3), signal())).changes).toEqual(['desiredCount: 5 → 3']);
    expect(await restarted.check(scale(5), 'inc-1/abc/step-1', signal())).toBe('done');
  });

  it('a disabled transition is remembered: disabling again previews "no change", enabling previews disabled → enabled', async () => {
    const { open } = sims();
    const sim = open();
    const disable: ActionCall = { action: 'codepipeline.disableTransition', params: { pipeline: 'api-pipeline', stage: 'Deploy' } };
    const enable: ActionCall = { action: 'codepipeline.enableTransition', params: { pipeline: 'api-pipeline', stage: 'Deploy' } };
    expect((await sim.preview(disable, signal())).changes).toEqual(['api-pipeline/Deploy inbound transition: enabled → disabled']);

    await sim.execute(disable, 'inc-2/abc/step-1', signal());

    expect((await open().preview(disable, signal())).summary).toBe('the inbound transition of api-pipeline/Deploy is already disabled: no change');
    expect((await open().preview(enable, signal())).changes).toEqual(['api-pipeline/Deploy inbound transition: disabled → enabled']);
    await open().execute(enable, 'inc-2/abc/step-2', signal());
    expect((await open().preview(enable, signal())).summary).toBe('the inbound transition of api-pipeline/Deploy is already enabled: no change');
  });

  it('a stopped execution is remembered: its preview says there is nothing to stop, and a second stop under another key changes nothing', async () => {
    const { open } = sims();
    const stop: ActionCall = { action: 'codepipeline.stopExecution', params: { pipeline: 'api-pipeline', executionId: 'exec-9' } };
    await open().execute(stop, 'inc-3/abc/step-1', signal());

    const again = open();
    expect((await again.preview(stop, signal())).summary).toBe('execution exec-9 of api-pipeline is Stopped: nothing to stop');
    expect((await again.execute(stop, 'inc-4/abc/step-1', signal())).summary).toBe('execution exec-9 of api-pipeline was already stopped');
  });
});
