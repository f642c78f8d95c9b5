import { describe, expect, it } from 'vitest';
import { markStepDone, StepDoneError, type StepDoneInput } from '../../src/execute/manual-step.js';
import type { Incident } from '../../src/incident/incident.js';
import { seedCheckoutIncident } from '../helpers/fast-world.js';
import { atManualStep, manualFirstWorld } from '../helpers/manual-step-world.js';

const input = (inc: Incident, over: Partial<StepDoneInput> = {}): StepDoneInput => ({ incidentId: inc.id, step: 1, approver: 'bob', identity: 'token:bob', channel: 'cli', note: 'consumers paused at 08:14', ...over });

async function refusal(p: Promise<unknown>): Promise<StepDoneError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof StepDoneError)) throw new Error(`expected a StepDoneError, got ${String(err)}`);
  return err;
}

describe('manual steps a person marks done (issue 12 item 1)', () => {
  it('the runner hands the manual step to a person and waits (no cloud call, the incident stays executing, the channels are told)', async () => {
    const { w, watcher } = manualFirstWorld();
    const inc = await atManualStep(w, watcher);
    expect(inc.state).toBe('executing');
    expect(inc.steps.map((s) => s.status)).toEqual(['awaiting_person']);
    expect(inc.reason).toContain('Pause the payment queue consumers');
    expect(w.notifier.sent.some((a) => a.title.startsWith('[checkout] a person is needed for step 1'))).toBe(true);

    w.clock.advance(60_000);
    await watcher.runCycle();
    const later = (await w.store.getIncident(inc.id))!;
    expect(later.steps.map((s) => s.status)).toEqual(['awaiting_person']);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('an approver marks it done (audited with identity and note) and the next cycle runs the next step', async () => {
    const { w, watcher } = manualFirstWorld();
    const inc = await atManualStep(w, watcher);

    const done = await markStepDone(w.store, w.files.policy, input(inc), w.clock.now());
    expect(done.steps[0]).toMatchObject({ status: 'succeeded', summary: 'done by bob: consumers paused at 08:14' });
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'step.done');
    expect(audit).toMatchObject({ actor: 'bob', data: { step: 1, approver: 'bob', identity: 'token:bob', channel: 'cli', note: 'consumers paused at 08:14' } });
    expect(w.sim.executeCalls()).toBe(0);

    w.clock.advance(60_000);
    await watcher.runCycle();
    await watcher.queueIdle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(w.sim.executeCalls()).toBe(1);
    expect(['verifying', 'resolved']).toContain(after.state);
  });

  it('marking twice is a clear 409 naming who did it, and changes nothing', async () => {
    const { w, watcher } = manualFirstWorld();
    const inc = await atManualStep(w, watcher);
    await markStepDone(w.store, w.files.policy, input(inc), w.clock.now());
    const before = (await w.store.getIncident(inc.id))!;

    const err = await refusal(markStepDone(w.store, w.files.policy, input(inc, { approver: 'alice', identity: 'token:alice' }), w.clock.now()));
    expect(err.status).toBe(409);
    expect(err.message).toBe(`step 1 of ${inc.id} was already marked done (done by bob: consumers paused at 08:14)`);
    expect((await w.store.getIncident(inc.id))?.version).toBe(before.version);
  });

  it('only an approver of that incident: a known person outside its quorum is refused 403', async () => {
    const { w, watcher } = manualFirstWorld();
    const inc = await atManualStep(w, watcher);
    const err = await refusal(markStepDone(w.store, w.files.policy, input(inc, { approver: 'carol', identity: 'token:carol' }), w.clock.now()));
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^carol is not an approver of /);
    expect((await w.store.getIncident(inc.id))?.steps[0]?.status).toBe('awaiting_person');
  });

  it('only the current awaiting step: a step not reached, a step the daemon runs, a step that does not exist', async () => {
    const { w, watcher } = manualFirstWorld();
    const inc = await atManualStep(w, watcher);
    const daemonStep = await refusal(markStepDone(w.store, w.files.policy, input(inc, { step: 2 }), w.clock.now()));
    expect(daemonStep.status).toBe(409);
    expect(daemonStep.message).toBe('step 2 (codepipeline.rollback) is not a manual step; the daemon runs it');
    const missing = await refusal(markStepDone(w.store, w.files.policy, input(inc, { step: 7 }), w.clock.now()));
    expect(missing.status).toBe(404);
    const nobody = await refusal(markStepDone(w.store, w.files.policy, input(inc, { incidentId: 'no-such' }), w.clock.now()));
    expect(nobody.status).toBe(404);
  });

  it('before the run reaches it (still awaiting approval) the manual step cannot be marked done', async () => {
    const { w, watcher } = manualFirstWorld();
    const seeded = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const err = await refusal(markStepDone(w.store, w.files.policy, input(seeded), w.clock.now()));
    expect(err.status).toBe(409);
    expect(err.message).toBe(`step 1 of ${seeded.id} is not waiting for a person (incident awaiting_approval, step not reached)`);
  });
});
