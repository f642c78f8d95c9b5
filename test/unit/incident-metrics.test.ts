import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerIncidentMetrics } from '../../src/pipeline/metrics.js';
import { simHarness } from '../helpers/sim-harness.js';

describe('/metrics from the incident record (issue 15 item 15)', () => {
  it('onset → proposal and proposal → decision histograms, approvals by channel, actions by result', async () => {
    const h = simHarness();
    const registry = new Registry();
    registerIncidentMetrics(registry, h.store);
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
