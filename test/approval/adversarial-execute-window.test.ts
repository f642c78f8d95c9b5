import { describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/core/time.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

/**
 * Issue 10, items 6 and 7: an approval survives a shutdown and runs after the restart, but only within
 * approval.executeWithin of its quorum; later it expires, not executed. A "restart" is a new Watcher
 * with a fresh run state on the same store, as a new process on the same data directory would be.
 */

async function approvedButDrained(w: FastWorld): Promise<string> {
  const watcher = new Watcher(w.deps);
  const inc = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const proposed = await w.store.getIncident(inc.id);
  if (!proposed?.runbook) throw new Error('not proposed');
  // SIGTERM lands between the approval and its first step.
  const res = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' });
  expect(res.outcome).toBe('approved');
  w.deps.run.to('draining');
  await watcher.queueIdle();
  w.deps.run.to('stopped');
  return inc.id;
}

const restarted = (w: FastWorld): Watcher => new Watcher({ ...w.deps, run: new RunState('running') });

describe('an approval across a shutdown (issue 10, items 6 and 7)', () => {
  it('item 6: SIGTERM while an approval is in flight starts no step, keeps the approval, and it runs once after the restart', async () => {
    const w = fastWorld(demoFiles());
    const id = await approvedButDrained(w);
    const held = await w.store.getIncident(id);
    expect(held?.steps).toEqual([]);
    expect(held?.state).not.toBe('needs_human');
    expect((await w.store.listAudit({ incidentId: id })).filter((a) => a.kind === 'step.started' || a.kind === 'step.finished')).toEqual([]);
    expect(w.sim.executeCalls()).toBe(0);
    expect(await w.store.listDecisions(id)).toHaveLength(1);

    // Back up 2 minutes later (well within executeWithin).
    w.clock.advance(2 * MINUTE);
    await restarted(w).runCycle();
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.getIncident(id))?.steps.map((s) => s.status)).toEqual(['succeeded']);
  });

  it('item 7: quorum met, the daemon down past approval.executeWithin → on restart the incident expires, audited and announced, nothing runs', async () => {
    const files = demoFiles((doc) => {
      doc.approval.executeWithin = '15m';
    });
    const w = fastWorld(files);
    const id = await approvedButDrained(w);
    w.clock.advance(16 * MINUTE);
    const before = w.notifier.sent.length;
    await restarted(w).runCycle();

    const inc = await w.store.getIncident(id);
    expect(inc?.state).toBe('expired');
    expect(inc?.steps).toEqual([]);
    expect(w.sim.executeCalls()).toBe(0);
    const audit = await w.store.listAudit({ incidentId: id });
    expect(audit.find((a) => a.kind === 'authorize.denied')?.data).toMatchObject({ reason: 'approval_stale' });
    expect(audit.some((a) => a.kind === 'incident.transition' && JSON.stringify(a.data).includes('expired — not executed'))).toBe(true);
    expect(JSON.stringify(w.notifier.sent.slice(before))).toMatch(/expired — not executed \(approved too long ago\)/);
  });

  it('item 7: the same restart within executeWithin runs the step', async () => {
    const w = fastWorld(demoFiles((doc) => {
      doc.approval.executeWithin = '15m';
    }));
    const id = await approvedButDrained(w);
    w.clock.advance(14 * MINUTE);
    await restarted(w).runCycle();
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.getIncident(id))?.state).not.toBe('expired');
  });
});
