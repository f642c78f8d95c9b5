import { describe, expect, it } from 'vitest';
import { simHarness } from '../helpers/sim-harness.js';

const awaiting = (incs: { state: string }[]): boolean => incs.some((i) => i.state === 'awaiting_approval');

describe('signals after the incident ends, and the signals heartbeat (issue 15 bugs 1, 3)', () => {
  it('a resolved incident has no signal left ongoing: each is cleared by the time it resolved', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.runbook) throw new Error('no proposal');
    await h.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await h.watcher.drain();
    const incs = await h.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 60);
    const done = incs.find((i) => i.id === inc.id);
    expect(done?.signals.length).toBeGreaterThan(0);
    for (const s of done?.signals ?? []) {
      expect(s.clearedAt).not.toBeNull();
      expect(s.clearedAt ?? Infinity).toBeLessThanOrEqual(done?.updatedAt ?? 0);
    }
  });

  it('records a signals change only when one happened: an incident left alone for 30 min has no once-a-minute heartbeat', async () => {
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    if (!inc) throw new Error('no proposal');
    for (let n = 0; n < 30; n++) {
      h.clock.advance(60_000);
      await h.watcher.runCycle();
    }
    const audit = await h.store.listAudit({ incidentId: inc.id });
    const beats = audit.filter((a) => a.kind === 'incident.signals');
    // Each record says what changed; two records in a row never say the same thing.
    for (let n = 1; n < beats.length; n++) expect(JSON.stringify(beats[n]?.data)).not.toBe(JSON.stringify(beats[n - 1]?.data));
    expect(beats.length).toBeLessThan(10);
    // Still tracked between writes: the anomaly is not cleared early for want of a stored heartbeat.
    const now = await h.store.getIncident(inc.id);
    expect(now?.signals.some((s) => s.clearedAt === null) || now?.state !== 'awaiting_approval').toBe(true);
  });
});
