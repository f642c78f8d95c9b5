import { describe, expect, it } from 'vitest';
import { DecisionNotRecordedError, Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';

describe('every wait is bounded', () => {
  it('a cycle stuck on a port that never answers overruns, is recorded, and the next cycle still starts; a decision sent meanwhile is refused and never acted on', async () => {
    // Prepare: a proposal, then CloudWatch accepts the call and never answers (nor hears the abort).
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, decisionTimeout: '200ms' }));
    let hang = false;
    const w = fastWorld(files, { metrics: (inner) => ({ fetch: (...a) => (hang ? new Promise(() => undefined) : inner.fetch(...a)) }) });
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (proposed?.state !== 'awaiting_approval' || !proposed.runbook) throw new Error('not proposed');
    hang = true;
    w.clock.advance(files.policy.pollEveryMs);
    const stuck = watcher.cycle();

    // Act: a person approves during the hang; the POST's answer is an error.
    const answer = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'api', identity: 'token:alice' }).then(
      () => 'recorded',
      (err: unknown) => err,
    );
    // The cycle's deadline (one poll interval) passes.
    w.clock.advance(files.policy.pollEveryMs + 1);
    const outcome = await stuck;
    hang = false;
    w.clock.advance(files.policy.pollEveryMs);
    const next = await watcher.cycle();
    await watcher.queueIdle();

    // Assess
    expect(answer).toBeInstanceOf(DecisionNotRecordedError);
    expect((answer as DecisionNotRecordedError).status).toBe(503);
    expect(outcome).toBe('overrun');
    expect(watcher.overruns).toBe(1);
    expect((await w.store.listAudit({})).some((a) => a.kind === 'cycle.overrun')).toBe(true);
    expect(next).toBe('ok');
    expect(await w.store.listDecisions(inc.id)).toEqual([]);
    expect((await w.store.getIncident(inc.id))?.state).toBe('awaiting_approval');
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('a decision whose turn comes in time is recorded and answered, even when evaluating it fails afterwards', async () => {
    const files = demoFiles();
    const w = fastWorld(files);
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (!proposed?.runbook) throw new Error('not proposed');
    // The quorum read after the write fails once: the decision is stored, so the answer must not be an error.
    const listDecisions = w.store.listDecisions.bind(w.store);
    let failOnce = true;
    w.store.listDecisions = async (id) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('busy');
      }
      return listDecisions(id);
    };
    const res = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'api', identity: 'token:alice' });
    expect(res.decision.approver).toBe('alice');
    expect(res.outcome).toBe('waiting');
    // The next cycle acts on the recorded decision.
    await watcher.runCycle();
    expect(w.sim.executeCalls()).toBe(1);
  });
});
