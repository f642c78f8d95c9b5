import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/actions/catalogue.js';
import type { ActionTarget } from '../../src/cloud/ports.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, type FastWorld, type PortOverrides } from '../helpers/fast-world.js';
import { approveAndRun, proposeCheckout } from './approve-and-run.js';

/** Per-action verify (issue 12 item 1 "how to verify it", item 2 "a failed step stops the run"): used right after each step. */

function world(o: PortOverrides = {}): { w: FastWorld; watcher: Watcher } {
  const w = fastWorld(demoFiles(), o);
  return { w, watcher: new Watcher(w.deps) };
}

/** The simulated cloud, with the action's verify answered by `verify`. */
const verifying = (verify: NonNullable<ActionTarget['verify']>) => (inner: ActionTarget): ActionTarget => ({
  execute: (...a) => inner.execute(...a),
  check: (...a) => inner.check(...a),
  preview: (...a) => inner.preview!(...a),
  verify,
});

describe('each catalogue action declares how its step is verified', () => {
  it('every action in the catalogue has a verify', () => {
    for (const a of ACTIONS) expect(typeof a.verify, a.name).toBe('function');
  });
});

describe('a step is verified right after its call', () => {
  it('verify passes (the simulated cloud shows the rollback) → the run goes on to the recovery window', async () => {
    const calls: string[] = [];
    const { w, watcher } = world({ actions: (inner) => verifying(async (call, key, signal, opts) => { calls.push(call.action); return inner.verify!(call, key, signal, opts); })(inner) });
    const inc = await approveAndRun(w, watcher, await proposeCheckout(w, watcher));
    expect(calls).toEqual(['codepipeline.rollback']);
    expect(inc.steps[0]?.status).toBe('succeeded');
    expect(['verifying', 'resolved']).toContain(inc.state);
    const finished = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'step.finished');
    expect(finished?.data['verify']).toMatchObject({ ok: true });
  });

  it('verify fails → the step is failed, the run stops: failed → needs_human, with notice, and no recovery window', async () => {
    const { w, watcher } = world({ actions: verifying(async () => ({ ok: false, detail: 'stage Deploy still runs execution 5a6b7c8d' })) });
    const inc = await approveAndRun(w, watcher, await proposeCheckout(w, watcher));
    expect(w.sim.executeCalls()).toBe(1);
    expect(inc.steps[0]?.status).toBe('failed');
    expect(inc.steps[0]?.summary).toMatch(/verify failed: stage Deploy still runs execution 5a6b7c8d/);
    const moves = (await w.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'incident.transition').map((a) => a.data['to']);
    expect(moves.slice(-2)).toEqual(['failed', 'needs_human']);
    expect(moves).not.toContain('verifying');
    expect(inc.verification).toBeNull();
    expect(w.notifier.sent.at(-1)?.title).toMatch(/failed at step 1/);
  });

  it('a verify that cannot read the cloud fails closed: the run stops', async () => {
    const { w, watcher } = world({ actions: verifying(async () => { throw new Error('GetPipelineState timed out'); }) });
    const inc = await approveAndRun(w, watcher, await proposeCheckout(w, watcher));
    expect(inc.steps[0]?.status).toBe('failed');
    expect(inc.steps[0]?.summary).toMatch(/could not be verified: GetPipelineState timed out/);
    expect(inc.state).toBe('needs_human');
  });
});

describe('the simulated cloud verifies from the state the action set', () => {
  it('a freeze verifies while the transition is disabled, and not once something enabled it again', async () => {
    const { w } = world();
    const call = { action: 'codepipeline.disableTransition', params: { pipeline: 'checkout-deploy', stage: 'Deploy' } };
    const signal = AbortSignal.timeout(2_000);
    expect((await w.sim.execute(call, 'inc/abc/step-1', signal)).ok).toBe(true);
    expect(await w.sim.verify(call, 'inc/abc/step-1', signal)).toMatchObject({ ok: true });
    w.sim.setTransition('checkout-deploy', 'Deploy', true, w.clock.now());
    expect(await w.sim.verify(call, 'inc/abc/step-1', signal)).toMatchObject({ ok: false, detail: expect.stringMatching(/is enabled/) });
    expect(await w.sim.verify(call, 'inc/other/step-1', signal)).toMatchObject({ ok: false });
  });
});
