import { describe, expect, it } from 'vitest';
import { CHART_AWAIT_REFRESH_MS, CHART_MAX_POINTS } from '../../src/pipeline/chart-refresh.js';
import { simHarness } from '../helpers/sim-harness.js';

describe('the chart of an incident awaiting approval is the metric now, not the drafting snapshot (issue 15 item 11)', () => {
  it('while nobody decides, the chart gains points after the draft time, refreshed at most once per CHART_AWAIT_REFRESH_MS', async () => {
    // Prepare: the demo incident, proposed; nobody decides.
    const h = simHarness();
    const [inc] = (await h.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).filter((i) => i.state === 'awaiting_approval');
    if (!inc?.chart?.series || !inc.approval) throw new Error('no proposal with a chart');
    const draftedAt = inc.chart.refreshedAt ?? inc.approval.requestedAt;
    const lastDrafted = Math.max(...inc.chart.series.map((s) => s.points.at(-1)?.t ?? 0));

    // Act: let 15 virtual minutes pass, still before the request expires.
    const waitMs = 3 * CHART_AWAIT_REFRESH_MS;
    expect(inc.approval.expiresAt - draftedAt).toBeGreaterThan(waitMs);
    const cycles = Math.ceil(waitMs / h.policy.pollEveryMs);
    let now = inc;
    for (let n = 0; n < cycles; n++) {
      h.clock.advance(h.policy.pollEveryMs);
      await h.watcher.runCycle();
      now = (await h.store.getIncident(inc.id)) ?? now;
    }

    // Assess: still awaiting, every series has points after the draft, bounded; refreshes are few and spaced.
    expect(now.state).toBe('awaiting_approval');
    const chart = now.chart;
    if (!chart?.series) throw new Error('the chart was lost');
    expect(chart.refreshedAt ?? 0).toBeGreaterThan(draftedAt);
    expect(new Set(chart.series.map((s) => s.metricId))).toEqual(new Set(inc.chart.series.map((s) => s.metricId)));
    for (const s of chart.series) {
      expect(s.points.length).toBeLessThanOrEqual(CHART_MAX_POINTS);
      expect(s.points.filter((p) => p.t > lastDrafted).length).toBeGreaterThanOrEqual(Math.floor(CHART_AWAIT_REFRESH_MS / (s.periodSec ?? 60) / 1000));
    }
    const refreshes = (await h.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'chart.refreshed');
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.length).toBeLessThanOrEqual(Math.ceil(waitMs / CHART_AWAIT_REFRESH_MS));
    for (let n = 1; n < refreshes.length; n++) expect((refreshes[n]?.at ?? 0) - (refreshes[n - 1]?.at ?? 0)).toBeGreaterThanOrEqual(CHART_AWAIT_REFRESH_MS);
  });
});
