import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';

/** decideOne on the simulated cloud: announcements of decisions, reminders and escalation at their times. */

const worlds: SlackWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.close().catch(() => undefined);
    await w.stub.stop();
  }
});
type Proposed = Incident & { runbook: NonNullable<Incident['runbook']>; approval: NonNullable<Incident['approval']> };
async function proposed(o: Parameters<typeof slackWorld>[0] = {}): Promise<{ w: SlackWorld; inc: Proposed }> {
  const w = await slackWorld(o);
  worlds.push(w);
  const inc = (await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).find((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook || !inc.approval) throw new Error('no proposal');
  return { w, inc: inc as Proposed };
}
async function minutes(w: SlackWorld, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    w.h.clock.advance(60_000);
    await w.watcher.runCycle();
  }
  await w.settle();
}

describe('decide: announcements while a request waits', () => {
  it('announces each decision once, on every channel, whichever channel it came by', async () => {
    const { w, inc } = await proposed({ quorum: 3 });
    await w.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await minutes(w, 3);
    await w.watcher.decide({ incidentId: inc.id, approver: 'bob', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'web', identity: 'token:bob' });
    await minutes(w, 3);
    const decisions = w.h.notifier.sent.filter((a) => a.incidentId === inc.id && a.kind === 'decision').map((a) => a.title);
    expect(decisions).toEqual(['[checkout] alice approved (1 of 3 approvals)', '[checkout] bob approved (2 of 3 approvals)']);
    // Slack saw the same: one update per decision (no reminders are due yet).
    expect(w.stub.callsOf('chat.update')).toHaveLength(2);
    expect(JSON.stringify(w.stub.callsOf('chat.update')[1]?.args['blocks'])).toMatch(/2 of 3 approval\(s\) \(alice, bob\)/);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('sends every configured reminder at its time and escalates at its time, both in one cycle when they fall together', async () => {
    const { w, inc } = await proposed({
      edit: (doc) => {
        doc.approval.reminders = ['10m', '20m'];
        doc.approval.escalation = { after: '20m', to: ['leads'] };
      },
    });
    const reminders = (): string[] => w.h.notifier.sent.filter((a) => a.incidentId === inc.id && a.kind === 'reminder').map((a) => a.title);
    await minutes(w, 9);
    expect(reminders()).toEqual([]);
    await minutes(w, 1);
    expect(reminders()).toEqual(['[checkout] reminder: approval needed, 0 of 1 so far, 50 min left']);
    await minutes(w, 9);
    expect(reminders()).toHaveLength(1);
    await minutes(w, 1);
    expect(reminders()).toEqual([
      '[checkout] reminder: approval needed, 0 of 1 so far, 50 min left',
      '[checkout] reminder: approval needed, 0 of 1 so far, 40 min left',
      '[checkout] escalated to carol: approval needed, 40 min left',
    ]);
    const audit = (await w.h.store.listAudit({ incidentId: inc.id, limit: 1000 })).map((a) => a.kind);
    expect(audit.filter((k) => k === 'approval.reminder')).toHaveLength(2);
    expect(audit.filter((k) => k === 'approval.escalated')).toHaveLength(1);
    await minutes(w, 30);
    expect(reminders()).toHaveLength(3);
    expect((await w.h.store.getIncident(inc.id))?.state).toBe('awaiting_approval');
    expect(w.h.sim.executeCalls()).toBe(0);
  });
});
