import { describe, expect, it } from 'vitest';
import { addMs, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { MetricEvent } from '../../src/incident/grouping.js';
import type { Incident } from '../../src/incident/incident.js';
import { advance, startProgress, verifyOne, verifyProgressKey } from '../../src/pipeline/verify.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

const files = demoFiles();
const draft = { templateId: 'rollback', title: 'Roll back', risk: 'medium' as const, steps: [], verify: { withinMs: 60 * MINUTE, healthyPolls: 5 }, body: '', draftedBy: 'template' };
const RB: DraftedRunbook = { ...draft, hash: runbookHash(draft) };

/** The demo checkout incident, its runbook run, verifying since now (5 healthy polls needed within an hour). */
async function verifying(w: FastWorld): Promise<Incident> {
  const seeded = await seedCheckoutIncident(w);
  const inc: Incident = { ...structuredClone(seeded), version: seeded.version + 1, state: 'verifying', runbook: RB, verification: { startedAt: w.clock.now(), deadline: addMs(w.clock.now(), 60 * MINUTE), healthyPolls: 0 } };
  await w.store.updateIncident(inc, { at: w.clock.now(), incidentId: inc.id, kind: 'test.verifying', actor: 'test', data: {} });
  return inc;
}

/** One verify poll, a minute later, with one 5xx datapoint of `value` (48 is the peak, 3 expected). */
async function poll(w: FastWorld, id: string, value: number | null): Promise<Incident> {
  w.clock.advance(MINUTE);
  const now = w.clock.now();
  const events: MetricEvent[] = value === null ? [] : [{ metricId: 'checkout5xx', metricName: 'HTTPCode_Target_5XX_Count', service: 'checkout', t: now, anomalous: value > 20, direction: value > 20 ? 'up' : null, score: value > 20 ? 1 : 0, value, expected: 3 }];
  const inc = await w.store.getIncident(id);
  if (!inc) throw new Error('gone');
  await verifyOne(w.deps, { now, deadline: addMs(now, MINUTE), signal: new AbortController().signal }, inc, events);
  return (await w.store.getIncident(id)) ?? inc;
}

describe('verification is audited when its health changes, not on every poll (issue 15 bug 3)', () => {
  it('healthy, healthy…, a relapse, unhealthy…, then healthy to resolution: one verify.poll per change and a final record with the counts', async () => {
    // Prepare
    const w = fastWorld(files);
    const inc = await verifying(w);

    // Act: 3 healthy, 3 unhealthy, 1 without data, 5 healthy.
    for (const v of [3, 2, 4, 40, 45, 39, null, 3, 2, 3, 1, 2]) await poll(w, inc.id, v);

    // Assess
    const audit = await w.store.listAudit({ incidentId: inc.id });
    const polls = audit.filter((a) => a.kind === 'verify.poll');
    expect(polls.map((a) => a.data['health'])).toEqual(['healthy', 'unhealthy', 'healthy']);
    const done = await w.store.getIncident(inc.id);
    expect(done?.state).toBe('resolved');
    const final = audit.find((a) => a.kind === 'incident.transition' && a.data['to'] === 'resolved');
    expect(final?.data['verification']).toEqual({ polls: 12, healthyPolls: 8, unhealthyPolls: 3, noDataPolls: 1, streak: 5 });
    expect(done?.verification?.healthyPolls).toBe(5);
    // The counts kept between polls are dropped once verification ended.
    expect(await w.store.getValue(verifyProgressKey(inc.id))).toBeNull();
  });

  it('a service that never recovers: one unhealthy record, then not_recovered with the counts at the deadline', async () => {
    const w = fastWorld(files);
    const inc = await verifying(w);
    for (let n = 0; n < 60; n++) await poll(w, inc.id, 44);
    const audit = await w.store.listAudit({ incidentId: inc.id });
    expect(audit.filter((a) => a.kind === 'verify.poll')).toHaveLength(1);
    const end = audit.find((a) => a.kind === 'incident.transition' && a.data['to'] === 'not_recovered');
    expect(end?.data['verification']).toEqual({ polls: 60, healthyPolls: 0, unhealthyPolls: 60, noDataPolls: 0, streak: 0 });
    expect((await w.store.getIncident(inc.id))?.state).toBe('needs_human');
  });

  it('counts: a poll without data changes nothing but its count; a relapse resets the streak; an older stored streak carries over', () => {
    const p0 = startProgress({ startedAt: 0 as EpochMs, deadline: 1 as EpochMs, healthyPolls: 2 });
    expect(p0.streak).toBe(2);
    const p1 = advance(p0, null);
    expect(p1).toEqual({ ...p0, polls: 1, noDataPolls: 1 });
    const p2 = advance(advance(p1, true), false);
    expect(p2).toMatchObject({ polls: 3, healthyPolls: 1, unhealthyPolls: 1, streak: 0, health: 'unhealthy' });
  });
});
