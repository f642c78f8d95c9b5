import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentSource } from '../../src/cloud/ports.js';
import { addMs, MINUTE } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import type { CycleContext } from '../../src/pipeline/context.js';
import { applyFollowUp, FollowUpError, type FollowUpRequest } from '../../src/pipeline/follow-up.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

const files = demoFiles();

function world(maxRedrafts: number, deployments?: (inner: DeploymentSource) => DeploymentSource): { w: FastWorld; watcher: Watcher } {
  const base = fastWorld(files, deployments ? { deployments } : {});
  const w: FastWorld = { ...base, deps: { ...base.deps, settings: { ...base.deps.settings, maxRedrafts } } };
  return { w, watcher: new Watcher(w.deps) };
}

const ctxOf = (w: FastWorld): CycleContext => ({ now: w.clock.now(), deadline: addMs(w.clock.now(), 30_000), signal: new AbortController().signal });

async function cycles(w: FastWorld, watcher: Watcher, until: (i: Incident) => boolean, id: string): Promise<Incident> {
  for (let n = 0; n < 30; n++) {
    const inc = await w.store.getIncident(id);
    if (inc && until(inc)) return inc;
    w.clock.advance(files.policy.pollEveryMs);
    await watcher.runCycle();
    await watcher.queueIdle();
  }
  throw new Error(`not reached: ${JSON.stringify(await w.store.getIncident(id))}`);
}

async function proposed(w: FastWorld, watcher: Watcher): Promise<Incident> {
  const inc = await seedCheckoutIncident(w);
  await watcher.runCycle();
  return cycles(w, watcher, (i) => i.state === 'awaiting_approval', inc.id);
}

async function rejected(w: FastWorld, watcher: Watcher, reason = 'not now'): Promise<Incident> {
  const inc = await proposed(w, watcher);
  await watcher.decide({ incidentId: inc.id, approver: 'bob', verdict: 'reject', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:bob', reason });
  return (await w.store.getIncident(inc.id))!;
}

describe('new evidence while awaiting approval (issue 11 item 6)', () => {
  it('a new deployment of a dependency supersedes the request; version 2 is proposed and the channels are told what changed', async () => {
    // Prepare: payments (a dependency of checkout) deploys after the request opened.
    let extra: Deployment | null = null;
    const { w, watcher } = world(1, (inner) => ({
      list: async (pipelines, range, signal) => [...(await inner.list(pipelines, range, signal)), ...(extra && pipelines.includes(extra.pipeline) && extra.startedAt >= range.start && extra.startedAt <= range.end ? [extra] : [])],
    }));
    const v1 = await proposed(w, watcher);
    extra = { id: 'payments-exec-late', pipeline: 'payments-deploy', status: 'Succeeded', startedAt: addMs(w.clock.now(), 30_000), endedAt: addMs(w.clock.now(), 50_000) };

    // Act
    const v2 = await cycles(w, watcher, (i) => (i.requests?.length ?? 0) === 1 && i.state === 'awaiting_approval', v1.id);

    // Assess
    expect(v2.requests?.[0]).toMatchObject({ version: 1, outcome: 'superseded', runbookHash: v1.runbook?.hash, why: expect.stringContaining('payments-exec-late') });
    expect(v2.runbook?.revision).toBe(2);
    expect(v2.approval?.runbookHash).not.toBe(v1.approval?.runbookHash);
    const told = w.notifier.sent.filter((a) => a.incidentId === v1.id).map((a) => a.title);
    expect(told.some((t) => t.includes('version 1 superseded, re-drafting: a new deployment payments-exec-late'))).toBe(true);
    expect(told.some((t) => t.includes('version 2 replaces 1'))).toBe(true);
    // The dependency's deployment is not news a second time: re-drafts are used up, and nothing newer came.
    const later = await cycles(w, watcher, () => true, v1.id);
    w.clock.advance(5 * MINUTE);
    await watcher.runCycle();
    expect((await w.store.getIncident(v1.id))?.requests).toHaveLength(1);
    expect(later.state).toBe('awaiting_approval');
  });

  it('without re-drafts in the policy, nothing is looked for and nothing is superseded', async () => {
    let listed = 0;
    const { w, watcher } = world(0, (inner) => ({ list: async (p, r, s) => { listed++; return inner.list(p, r, s); } }));
    const v1 = await proposed(w, watcher);
    const before = listed;
    w.clock.advance(files.policy.pollEveryMs);
    await watcher.runCycle();
    expect((await w.store.getIncident(v1.id))?.requests ?? []).toEqual([]);
    // Observe lists deployments each cycle for learning freezes; the decide stage adds no call of its own.
    expect(listed - before).toBe(1);
  });
});

describe('a re-draft after a reject', () => {
  it('that comes back with the same steps is not asked again: a person decides', async () => {
    const { w, watcher } = world(1);
    const inc = await rejected(w, watcher, 'wrong target');
    expect(inc.state).toBe('drafting');
    const end = await cycles(w, watcher, (i) => i.state !== 'drafting', inc.id);
    expect(end.state).toBe('needs_human');
    expect(end.reason).toMatch(/came back with the same steps; not asked again/);
    expect(end.requests?.map((r) => r.outcome)).toEqual(['superseded']);
  });

  it('a reject without re-drafts ends the request and names the next steps', async () => {
    const { w, watcher } = world(0);
    const inc = await rejected(w, watcher);
    expect(inc.state).toBe('rejected');
    expect(inc.reason).toContain(`next: re-propose, assign or close (cloudops repropose|assign|close ${inc.id})`);
  });
});

describe('after expire or reject, a next step (issue 15 item 14)', () => {
  it('expire → repropose: a new request (the next version, a new hash), recorded and announced; approval then counts', async () => {
    const { w, watcher } = world(0);
    const v1 = await proposed(w, watcher);
    w.clock.advance(files.policy.ttlMs + MINUTE);
    await watcher.runCycle();
    expect((await w.store.getIncident(v1.id))?.state).toBe('expired');

    const v2 = await applyFollowUp(w.deps, ctxOf(w), { incidentId: v1.id, kind: 'repropose', by: 'alice', note: 'still failing' });

    expect(v2.state).toBe('awaiting_approval');
    expect(v2.runbook?.revision).toBe(2);
    expect(v2.approval?.runbookHash).toBe(v2.runbook?.hash);
    expect(v2.approval?.runbookHash).not.toBe(v1.runbook?.hash);
    expect(v2.approval?.expiresAt).toBe(w.clock.now() + files.policy.ttlMs);
    expect(v2.requests).toMatchObject([{ version: 1, outcome: 'expired', runbookHash: v1.runbook?.hash }]);
    const audit = (await w.store.listAudit({ incidentId: v1.id })).filter((a) => a.data['followUp'] === 'repropose');
    expect(audit).toMatchObject([{ kind: 'incident.transition', actor: 'alice', data: { from: 'expired', to: 'awaiting_approval', note: 'still failing' } }]);
    expect(w.notifier.sent.at(-1)).toMatchObject({ kind: 'proposal', incidentId: v1.id });
    const res = await watcher.decide({ incidentId: v1.id, approver: 'alice', verdict: 'approve', runbookHash: v2.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
    expect(res.outcome).toBe('approved');
  });

  it('reject → assign to a person → close with a note, each recorded in the audit trail', async () => {
    const { w, watcher } = world(0);
    const inc = await rejected(w, watcher);
    const assigned = await applyFollowUp(w.deps, ctxOf(w), { incidentId: inc.id, kind: 'assign', by: 'carol', to: 'dave', note: 'knows the payment client' });
    expect(assigned.state).toBe('needs_human');
    expect(assigned.assignee).toMatchObject({ to: 'dave', by: 'carol', note: 'knows the payment client' });
    const closed = await applyFollowUp(w.deps, ctxOf(w), { incidentId: inc.id, kind: 'close', by: 'carol', note: 'fixed forward in release 9f8e7d7' });
    expect(closed.state).toBe('closed');
    expect(closed.reason).toBe('closed by carol: fixed forward in release 9f8e7d7');
    const kinds = (await w.store.listAudit({ incidentId: inc.id })).filter((a) => a.data['followUp']).map((a) => [a.data['followUp'], a.data['to']]);
    expect(kinds).toEqual([['assign', 'needs_human'], ['close', 'closed']]);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it.each<[string, Partial<FollowUpRequest>, number, RegExp]>([
    ['close without a note', { kind: 'close' }, 400, /close needs a note/],
    ['assign without a person', { kind: 'assign', to: '' }, 400, /assign needs --to NAME/],
    ['a follow-up by someone who is not an approver', { kind: 'close', by: 'mallory', note: 'x' }, 403, /mallory is not an approver/],
    ['an unknown incident', { kind: 'close', incidentId: 'nope', note: 'x' }, 404, /no incident nope/],
  ])('refused, nothing changed: %s', async (_name, over, status, message) => {
    const { w, watcher } = world(0);
    const inc = await rejected(w, watcher);
    const err = await applyFollowUp(w.deps, ctxOf(w), { incidentId: inc.id, kind: 'close', by: 'alice', ...over }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FollowUpError);
    expect((err as FollowUpError).status).toBe(status);
    expect((err as Error).message).toMatch(message);
    expect((await w.store.getIncident(inc.id))?.version).toBe(inc.version);
  });

  it('re-propose is refused while a request is open', async () => {
    const { w, watcher } = world(0);
    const inc = await proposed(w, watcher);
    const err = await applyFollowUp(w.deps, ctxOf(w), { incidentId: inc.id, kind: 'repropose', by: 'alice' }).catch((e: unknown) => e);
    expect((err as FollowUpError).status).toBe(409);
    expect((err as Error).message).toBe('cannot repropose an incident that is awaiting_approval (only when rejected, expired)');
  });
});
