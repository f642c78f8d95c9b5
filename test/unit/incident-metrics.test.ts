import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { incidentFigures, registerIncidentMetrics } from '../../src/pipeline/metrics.js';
import { epochMs, type EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import type { IncidentState } from '../../src/incident/lifecycle.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { simHarness } from '../helpers/sim-harness.js';

describe('/metrics from the incident record (issue 15 item 15)', () => {
  it('onset → proposal and proposal → decision histograms, approvals by channel, actions by result', async () => {
    const h = simHarness();
    const registry = new Registry();
    registerIncidentMetrics(registry, h.store, () => h.clock.now());
    const [inc] = (await h.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.runbook || !inc.approval) throw new Error('no proposal');
    expect(await registry.metrics()).not.toMatch(/cloudops_proposal_to_decision_seconds_count [1-9]/);
    h.clock.advance(90_000);
    await h.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'slack', identity: 'slack:U0ALICE' });
    await h.watcher.drain();
    await h.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 80);
    await new Promise((r) => setTimeout(r, 1100)); // the per-scrape read is shared for a second
    const text = await registry.metrics();
    const onset = (inc.approval.requestedAt - inc.onsetAt) / 1000;
    expect(text).toContain(`cloudops_onset_to_proposal_seconds_sum ${onset}`);
    expect(text).toContain('cloudops_onset_to_proposal_seconds_count 1');
    expect(text).toContain('cloudops_proposal_to_decision_seconds_sum 90');
    expect(text).toMatch(/cloudops_proposal_to_decision_seconds_bucket\{le="60"\} 0\n.*le="120"\} 1/);
    expect(text).toContain('cloudops_approvals_total{channel="slack"} 1');
    expect(text).toContain('cloudops_actions_total{action="codepipeline.rollback",result="succeeded"} 1');
  });
});

describe('/metrics reads what the window needs, not the stored history (issue 16 item 7)', () => {
  it('ended incidents opened before the window are neither read nor counted; an ended one in it is read once', async () => {
    // Prepare: 300 resolved incidents from ten days ago, one resolved an hour ago, one awaiting approval now.
    const store = new SqliteStore(':memory:');
    const now = epochMs(Date.parse('2026-11-12T08:00:00Z'));
    const put = async (id: string, openedAt: number, state: IncidentState): Promise<void> => {
      const inc: Incident = { ...newIncident(id, 'checkout', [], openedAt as EpochMs), state, approval: { runbookHash: `h-${id}`, requestedAt: (openedAt + 60_000) as EpochMs, expiresAt: (openedAt + 3_600_000) as EpochMs, requiredApprovals: 1, excludedApprovers: [], channels: [], remindersSent: 0, escalated: false } };
      await store.createIncident(inc, { at: openedAt as EpochMs, incidentId: id, kind: 'incident.opened', actor: 'test', data: {} });
    };
    for (let i = 0; i < 300; i++) await put(`old-${i}`, now - 10 * 86_400_000 + i * 1000, 'resolved');
    await put('recent', now - 3_600_000, 'resolved');
    await put('open', now - 600_000, 'awaiting_approval');
    const reads: string[] = [];
    const counted = { listIncidents: store.listIncidents.bind(store), listDecisions: (id: string) => (reads.push(id), store.listDecisions(id)) };
    const registry = new Registry();
    registerIncidentMetrics(registry, counted, () => now);

    // Act: two scrapes, past the one-second sharing of a read.
    const first = await registry.metrics();
    await new Promise((r) => setTimeout(r, 1100));
    await registry.metrics();

    // Assess: two incidents counted; the old ones never read; the ended one's decisions read once, the open one's each scrape.
    expect(first).toContain('cloudops_onset_to_proposal_seconds_count 2');
    expect(reads.filter((id) => id.startsWith('old-'))).toEqual([]);
    expect(reads.filter((id) => id === 'recent')).toHaveLength(1);
    expect(reads.filter((id) => id === 'open')).toHaveLength(2);
    await store.close();
  });
});

describe('onset → proposal counts the first proposal of an incident (issue 15 item 15)', () => {
  const onset = epochMs(Date.parse('2026-11-02T08:03:00Z'));
  const at = (min: number): EpochMs => (onset + min * 60_000) as EpochMs;
  const request = (min: number) => ({ runbookHash: `h-${min}`, requestedAt: at(min), expiresAt: at(min + 60), requiredApprovals: 1, excludedApprovers: [], channels: [], remindersSent: 0, escalated: false });
  const past = (version: number, min: number, outcome: 'expired' | 'rejected' | 'superseded') => ({ version, runbookHash: `h-${min}`, title: 'Roll back', steps: [], requestedAt: at(min), endedAt: at(min + 60), outcome, why: outcome });
  const incident = (id: string, over: Partial<Incident>): Incident => ({ ...newIncident(id, 'checkout', [], at(0)), onsetAt: onset, ...over });

  it('a re-proposed incident counts once, from its onset to its first request, not to the re-proposal', () => {
    // Prepare: proposed 3 min after the onset, expired, re-proposed at 75 min, rejected, re-drafted at 150 min.
    const inc = incident('reproposed', { state: 'awaiting_approval', approval: request(150), requests: [past(1, 3, 'expired'), past(2, 75, 'rejected')] });
    // Act
    const f = incidentFigures([inc], () => []);
    // Assess
    expect(f.onsetToProposal).toEqual([180]);
  });

  it('the first request still counts when the incident no longer has an open one (closed after an expiry)', () => {
    const closed = incident('closed', { state: 'closed', approval: null, requests: [past(1, 4, 'expired')] });
    const never = incident('never-proposed', { state: 'detected', approval: null });
    const once = incident('once', { state: 'awaiting_approval', approval: request(2) });
    expect(incidentFigures([closed, never, once], () => []).onsetToProposal).toEqual([240, 120]);
  });
});
