import { describe, expect, it } from 'vitest';
import { simHarness } from '../helpers/sim-harness.js';

const awaiting = (incs: { state: string }[]): boolean => incs.some((i) => i.state === 'awaiting_approval');

describe('the whole loop on the simulated cloud', () => {
  it('proposes a rollback of the deployment that broke checkout, naming it and why', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    expect(inc?.service).toBe('checkout');
    expect(inc?.correlation?.suspect?.deployment.id).toBe('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(inc?.correlation?.suspect?.reasons.join(' ')).toMatch(/deploys checkout/);
    expect(inc?.runbook?.steps[0]).toMatchObject({ action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', targetExecutionId: '7b1f0c2e-aaaa-4a39-9c61-0d5e2f1a0001' } });
    expect(inc?.evidence?.templates.some((t) => t.isNew && /PaymentClientV2/.test(t.template))).toBe(true);
    expect(h.sim.executeCalls()).toBe(0);
  });

  it('with no decision, expires at its TTL and executes nothing', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    const expiresAt = inc?.approval?.expiresAt ?? 0;
    const incs = await h.runUntil((all) => all.some((i) => i.id === inc?.id && i.state === 'expired'));
    const done = incs.find((i) => i.id === inc?.id);
    expect(done?.reason).toMatch(/expired — not executed/);
    expect(h.clock.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(h.sim.executeCalls()).toBe(0);
    expect(h.notifier.sent.some((a) => a.incidentId === inc?.id && a.title.includes('expired — not executed'))).toBe(true);
  });

  it('approved: runs the rollback once, verifies recovery and resolves', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.runbook) throw new Error('no proposal');
    const res = await h.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:alice' });
    expect(res.outcome).toBe('approved');
    await h.watcher.drain();
    const incs = await h.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 60);
    expect(incs.find((i) => i.id === inc.id)?.steps[0]?.status).toBe('succeeded');
    expect(h.sim.executeCalls()).toBe(1);
  });

  it('rejected: nothing executes', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.runbook) throw new Error('no proposal');
    await h.watcher.decide({ incidentId: inc.id, approver: 'bob', verdict: 'reject', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:bob', reason: 'schema migration in this release' });
    const incs = await h.runUntil(() => true);
    expect(incs.find((i) => i.id === inc.id)?.state).toBe('rejected');
    for (let i = 0; i < 10; i++) {
      h.clock.advance(60_000);
      await h.watcher.runCycle();
    }
    expect(h.sim.executeCalls()).toBe(0);
  });
});
