import { describe, expect, it } from 'vitest';
import { epochMs } from '../../src/core/time.js';
import { boundPoints, CHART_MAX_POINTS, mergePoints } from '../../src/pipeline/chart-refresh.js';
import { simHarness } from '../helpers/sim-harness.js';

const awaiting = (incs: { state: string }[]): boolean => incs.some((i) => i.state === 'awaiting_approval');

describe('the incident chart follows the incident (issue 15 item 11)', () => {
  it('after the runbook ran and the service recovered, the chart holds every signal metric with points after the step, bounded in size', async () => {
    // Prepare: the demo incident, proposed.
    const h = simHarness();
    const [inc] = (await h.runUntil(awaiting)).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.runbook || !inc.chart) throw new Error('no proposal with a chart');
    const drafted = inc.chart.refreshedAt ?? 0;

    // Act: approve, then run until it resolved.
    await h.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'cli', identity: 'token:alice' });
    await h.watcher.drain();
    const incs = await h.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 80);
    const done = incs.find((i) => i.id === inc.id);

    // Assess: one series per signal metric known to the policy, refreshed after drafting, with points after the first step.
    const chart = done?.chart;
    const firstStep = done?.steps[0];
    if (!chart?.series || !firstStep) throw new Error('no refreshed chart or no step');
    const signalMetrics = new Set(done.signals.map((s) => s.metricId).filter((id) => h.policy.metrics.some((m) => m.id === id)));
    expect(new Set(chart.series.map((s) => s.metricId))).toEqual(signalMetrics);
    expect(chart.refreshedAt ?? 0).toBeGreaterThan(drafted);
    for (const s of chart.series) {
      expect(s.points.length).toBeLessThanOrEqual(CHART_MAX_POINTS);
      expect(s.points.filter((p) => p.t > firstStep.startedAt).length).toBeGreaterThanOrEqual(done.runbook?.verify.healthyPolls ?? 1);
    }
  });
});

describe('chart points (pure)', () => {
  const pts = (n: number, spikeAt = -1): { t: ReturnType<typeof epochMs>; v: number }[] => Array.from({ length: n }, (_, i) => ({ t: epochMs(i * 60_000), v: i === spikeAt ? 999 : i % 7 }));

  it('keeps at most the bound, the newest half as it was, and an old spike survives the thinning', () => {
    const all = pts(2000, 10);
    const kept = boundPoints(all, 240);
    expect(kept.length).toBeLessThanOrEqual(240);
    expect(kept.slice(-120)).toEqual(all.slice(-120));
    expect(kept.some((p) => p.v === 999)).toBe(true);
    for (let i = 1; i < kept.length; i++) expect(kept[i]?.t ?? 0).toBeGreaterThan(kept[i - 1]?.t ?? 0);
  });

  it('leaves a short series alone', () => {
    expect(boundPoints(pts(10), 240)).toEqual(pts(10));
  });

  it('a re-read replaces stored points from where it began and keeps the older ones', () => {
    const stored = pts(10);
    const fresh = [{ t: epochMs(8 * 60_000), v: 50 }, { t: epochMs(12 * 60_000), v: 60 }];
    const merged = mergePoints(stored, fresh, epochMs(8 * 60_000));
    expect(merged.map((p) => p.t / 60_000)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 12]);
    expect(merged.find((p) => p.t === 8 * 60_000)?.v).toBe(50);
  });
});
