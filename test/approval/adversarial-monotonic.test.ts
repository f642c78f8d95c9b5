import { describe, expect, it } from 'vitest';
import { ManualClock, ManualMonotonicClock } from '../../src/core/clock.js';
import { HOUR, MINUTE } from '../../src/core/time.js';
import { expiredOnMonotonic } from '../../src/approval/record-decision.js';
import type { ApprovalRequest } from '../../src/incident/incident.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';

/** Issue 10, item 12: a request's age is measured on a monotonic clock as well as the wall clock. */
describe('a backward wall-clock step does not stretch an approval deadline (issue 10, item 12)', () => {
  it('2-minute TTL, wall clock stepped back 1 h, real time past the TTL → the approval is refused and nothing runs', async () => {
    const w = fastWorld(demoFiles((doc) => {
      doc.approval.ttl = '2m';
    }));
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (!proposed?.runbook || !proposed.approval) throw new Error('not proposed');
    expect(proposed.approval.expiresAt - proposed.approval.requestedAt).toBe(2 * MINUTE);
    expect(proposed.approval.openedMonotonic?.origin).toBe(w.clock.monotonic.origin);

    // 2.5 min of real time pass, and the wall clock is stepped back an hour meanwhile.
    w.clock.monotonic.advance(150_000);
    w.clock.set(w.clock.now() - HOUR);
    expect(w.clock.now()).toBeLessThan(proposed.approval.expiresAt);
    const refused = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toMatch(/expired/);
    expect(await w.store.listDecisions(inc.id)).toEqual([]);
    await watcher.runCycle();
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('the same step back within the TTL in real time still accepts the approval', async () => {
    const w = fastWorld(demoFiles((doc) => {
      doc.approval.ttl = '2m';
    }));
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const proposed = await w.store.getIncident(inc.id);
    if (!proposed?.runbook) throw new Error('not proposed');
    w.clock.monotonic.advance(60_000);
    w.clock.set(w.clock.now() - HOUR + 60_000);
    const res = await watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: proposed.runbook.hash, channel: 'cli', identity: 'token:alice' });
    expect(await w.store.listDecisions(inc.id)).toHaveLength(1);
    expect(res.outcome).not.toBe('expired');
  });

  it('monotonic readings from another process (another origin) are not compared', () => {
    const opener = new ManualMonotonicClock();
    const other = new ManualClock(0).monotonic;
    other.advance(10 * HOUR);
    const req = { requestedAt: 0, expiresAt: 2 * MINUTE, openedMonotonic: { origin: opener.origin, at: 0 } } as unknown as ApprovalRequest;
    expect(expiredOnMonotonic(req, { origin: other.origin, at: other.elapsedMs() })).toBe(false);
    expect(expiredOnMonotonic(req, { origin: opener.origin, at: 2 * MINUTE })).toBe(true);
    expect(expiredOnMonotonic(req, { origin: opener.origin, at: 2 * MINUTE - 1 })).toBe(false);
    expect(() => opener.advance(-1)).toThrow(RangeError);
  });
});
