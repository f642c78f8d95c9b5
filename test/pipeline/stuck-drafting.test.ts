import { describe, expect, it } from 'vitest';
import type { DeploymentSource } from '../../src/cloud/ports.js';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { MINUTE } from '../../src/core/time.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { Planner } from '../../src/runbook/planner.js';
import { DEMO_T0, demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

/** Drafting reads from twice the correlation lookback (2 h in the demo) before the seeded onset (08:03); observing reads other ranges. */
const isDraftRead = (range: { start: number }): boolean => range.start === DEMO_T0 + 3 * MINUTE - 4 * 60 * MINUTE;

/** Fails the first `n` deployments.list calls of drafting with `err`, then answers; `calls` counts drafting's calls. */
function failingFirst(n: number, err: () => Error): (inner: DeploymentSource) => DeploymentSource & { calls: number } {
  return (inner) => {
    const port = {
      calls: 0,
      async list(...args: Parameters<DeploymentSource['list']>) {
        if (isDraftRead(args[1])) {
          port.calls++;
          if (port.calls <= n) throw err();
        }
        return inner.list(...args);
      },
    };
    return port;
  };
}

async function cycles(w: FastWorld, watcher: Watcher, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    w.clock.advance(w.files.policy.pollEveryMs);
    await watcher.runCycle();
  }
}

describe('drafting is never a stuck state', () => {
  it('a throttled deployments.list on the first try, then success: the incident is proposed on a later cycle', async () => {
    // Prepare: no retry inside the attempt, so the throttle fails the first attempt outright.
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, retries: 0 }));
    const w = fastWorld(files, { deployments: failingFirst(1, () => new TransientError('Rate exceeded (ThrottlingException)')) });
    const inc = await seedCheckoutIncident(w);
    const watcher = new Watcher(w.deps);

    // Act: the first cycle's attempt fails.
    await watcher.runCycle();
    const afterFirst = await w.store.getIncident(inc.id);

    // Assess: recorded on the incident, still drafting; a later cycle proposes it.
    expect(afterFirst?.state).toBe('drafting');
    expect(afterFirst?.drafting).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/ThrottlingException/) });
    expect(afterFirst?.failures?.at(-1)).toMatchObject({ stage: 'draft', retryable: true });
    await cycles(w, watcher, 1);
    const later = await w.store.getIncident(inc.id);
    expect(later?.state).toBe('awaiting_approval');
    expect(later?.runbook?.steps[0]?.action).toBe('codepipeline.rollback');
    expect(later?.drafting?.attempts).toBe(2);
    const audit = (await w.store.listAudit({ incidentId: inc.id })).map((a) => a.kind);
    expect(audit).toContain('stage.failed');
    expect(w.notifier.sent.filter((a) => a.kind === 'proposal')).toHaveLength(1);
  });

  it('with retries, the same throttle is retried inside the attempt and the incident is proposed in the first cycle', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, retries: 2, retryBackoff: '1ms' }));
    const w = fastWorld(files, { deployments: failingFirst(1, () => new TransientError('Rate exceeded')) });
    const inc = await seedCheckoutIncident(w);
    await new Watcher(w.deps).runCycle();
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('awaiting_approval');
    expect(now?.drafting?.attempts).toBe(1);
  });

  it('a permanent error is not retried inside the attempt', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, retries: 5, retryBackoff: '1ms' }));
    let port: { calls: number } = { calls: 0 };
    const w = fastWorld(files, { deployments: (inner) => (port = failingFirst(1, () => new PermanentError('AccessDenied'))(inner)) });
    const inc = await seedCheckoutIncident(w);
    await new Watcher(w.deps).runCycle();
    expect(port.calls).toBe(1);
    expect((await w.store.getIncident(inc.id))?.drafting?.lastError).toMatch(/AccessDenied/);
  });

  it('a planner that keeps failing: retried, then drafted by the template planner, with the fallback in the trace', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, draftAttempts: 3, retries: 0 }));
    let asked = 0;
    const broken: Planner = {
      kind: 'agent',
      async draft() {
        asked++;
        throw new TransientError('model throttled');
      },
    };
    const w = fastWorld(files, { planner: () => broken });
    const inc = await seedCheckoutIncident(w);
    const watcher = new Watcher(w.deps);
    await watcher.runCycle();
    await cycles(w, watcher, 2);
    const now = await w.store.getIncident(inc.id);
    expect(asked).toBe(2);
    expect(now?.state).toBe('awaiting_approval');
    expect(now?.plan).toMatchObject({ planner: 'template', fallbackReason: expect.stringMatching(/agent planner failed 2 attempt\(s\): model throttled/) });
    const proposed = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'incident.transition' && a.data['to'] === 'awaiting_approval');
    expect(proposed?.data['plan']).toMatchObject({ planner: 'template', modelId: null });
  });

  it('every attempt failing: after pipeline.draftAttempts attempts the incident goes to a person with the reason', async () => {
    const files = demoFiles((d) => (d.pipeline = { ...d.pipeline, draftAttempts: 2, retries: 0 }));
    const w = fastWorld(files, { deployments: (inner) => ({ list: async (p, range, signal) => (isDraftRead(range) ? Promise.reject(new TransientError('CodePipeline unavailable')) : inner.list(p, range, signal)) }) });
    const inc = await seedCheckoutIncident(w);
    const watcher = new Watcher(w.deps);
    await watcher.runCycle();
    await cycles(w, watcher, 2);
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('needs_human');
    expect(now?.reason).toBe('no runbook could be drafted after 2 attempt(s): CodePipeline unavailable');
    expect(w.notifier.sent.some((a) => a.kind === 'final' && a.incidentId === inc.id)).toBe(true);
    expect(w.notifier.sent.some((a) => a.kind === 'proposal')).toBe(false);
  });

  it('an attempt interrupted by a crash (drafting, nothing in flight) is counted and retried by the next process', async () => {
    const files = demoFiles();
    const w = fastWorld(files);
    const inc = await seedCheckoutIncident(w);
    // The first process moved it to drafting and counted attempt 1, then died.
    const stored = await w.store.getIncident(inc.id);
    if (!stored) throw new Error('not stored');
    await w.store.updateIncident({ ...stored, version: stored.version + 1, state: 'drafting', drafting: { attempts: 1, startedAt: w.clock.now(), lastError: null } }, { at: w.clock.now(), incidentId: inc.id, kind: 'test', actor: 'test', data: {} });
    w.clock.advance(MINUTE);
    await new Watcher(w.deps).runCycle();
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('awaiting_approval');
    expect(now?.drafting?.attempts).toBe(2);
  });
});
