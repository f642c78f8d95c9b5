import { describe, expect, it } from 'vitest';
import { markStepDone, StepDoneError, type StepDoneInput } from '../../src/execute/manual-step.js';
import type { Incident } from '../../src/incident/incident.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { atManualStep, manualFirstWorld } from '../helpers/manual-step-world.js';

const MIN = 60_000;
const input = (inc: Incident): StepDoneInput => ({ incidentId: inc.id, step: 1, approver: 'bob', identity: 'token:bob', channel: 'cli', note: 'paused' });

async function refusal(p: Promise<unknown>): Promise<StepDoneError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof StepDoneError)) throw new Error(`expected a StepDoneError, got ${String(err)}`);
  return err;
}

describe('a manual step waits for its person only so long (execution.manualStepTimeout)', () => {
  it('the default is documented and is 1h', () => {
    const doc = loadPolicyFile('config/demo.yaml').policy;
    expect(doc.execution.manualStepTimeout).toBe('1h');
  });

  it('just before the limit the run still waits and a mark is taken', async () => {
    const { w, watcher } = manualFirstWorld((doc) => (doc.execution.manualStepTimeout = '30m'));
    const inc = await atManualStep(w, watcher);

    w.clock.advance(29 * MIN);
    await watcher.runCycle();
    expect((await w.store.getIncident(inc.id))?.steps[0]?.status).toBe('awaiting_person');
    const done = await markStepDone(w.store, w.files.policy, input(inc), w.clock.now());
    expect(done.steps[0]?.status).toBe('succeeded');
  });

  it('past the limit the run stops → needs_human, with notice and an audit record, and nothing runs in the cloud', async () => {
    const { w, watcher } = manualFirstWorld((doc) => (doc.execution.manualStepTimeout = '30m'));
    const inc = await atManualStep(w, watcher);
    const handedAt = inc.steps[0]!.startedAt;

    w.clock.advance(31 * MIN);
    await watcher.runCycle();
    await watcher.queueIdle();

    const after = (await w.store.getIncident(inc.id))!;
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/^step 1 \(manual\) was not marked done within 30m; the run stopped and a person must take over/);
    expect(after.steps.map((s) => s.status)).toEqual(['handed_to_human']);
    expect(after.steps[0]?.summary).toContain('nobody marked it done within 30m');
    const audit = await w.store.listAudit({ incidentId: inc.id });
    expect(audit.find((a) => a.kind === 'step.timed_out')).toMatchObject({ actor: 'executor', data: { step: 1, action: 'manual', waitedFrom: handedAt, deadline: handedAt + 30 * MIN, timeout: '30m' } });
    expect(w.notifier.sent.some((a) => a.title.includes('step 1 was not marked done in time'))).toBe(true);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('a mark after the limit is refused 409 with the reason, whether or not the runner has stopped the run yet, and changes nothing', async () => {
    const { w, watcher } = manualFirstWorld((doc) => (doc.execution.manualStepTimeout = '30m'));
    const inc = await atManualStep(w, watcher);
    w.clock.advance(30 * MIN);

    // The runner has not looked yet: the step still says awaiting_person, but its time is up.
    const early = await refusal(markStepDone(w.store, w.files.policy, input(inc), w.clock.now()));
    expect(early.status).toBe(409);
    expect(early.message).toMatch(new RegExp(`^step 1 of ${inc.id} is no longer waiting: nobody marked it done within 30m \\(by .+Z\\), so the run stopped and was handed to a person; this mark is refused$`));
    expect((await w.store.getIncident(inc.id))?.version).toBe(inc.version);

    await watcher.runCycle();
    await watcher.queueIdle();
    const stopped = (await w.store.getIncident(inc.id))!;
    const late = await refusal(markStepDone(w.store, w.files.policy, input(inc), w.clock.now()));
    expect(late.status).toBe(409);
    expect(late.message).toBe(early.message);
    expect((await w.store.getIncident(inc.id))?.version).toBe(stopped.version);
    expect((await w.store.listAudit({ incidentId: inc.id })).some((a) => a.kind === 'step.done')).toBe(false);
  });
});
