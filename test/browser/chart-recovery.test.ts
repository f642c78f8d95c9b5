import { mkdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { browserSession } from './browser-session.js';


const session = browserSession();

/** Issue 15 item 11 in a real Chromium: after resolution the chart shows the step and the recovery, at 1280 px. */
describe('the incident chart after recovery', () => {
  it('a resolved incident charts every signal metric with the step marked and points after it, without horizontal scrolling', async () => {
    // Prepare: the demo incident approved and run until resolved.
    const srv = await session.start();
    const inc = await srv.awaiting();
    await srv.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook?.hash ?? '', channel: 'cli', identity: 'token:alice' });
    await srv.watcher.drain();
    const incs = await srv.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 80);
    const done = incs.find((i) => i.id === inc.id);

    // Act
    const { page, errors } = await session.page(1280, 900);
    await page.goto(`${srv.url}/incidents/${encodeURIComponent(inc.id)}`);

    // Assess: one drawn chart per signal metric; in each, a step marker and the line going on to its right.
    const figures = page.locator('#chart figure.chart');
    expect(await figures.count()).toBe(done?.chart?.series?.length);
    expect(await figures.count()).toBeGreaterThanOrEqual(1);
    for (let n = 0; n < (await figures.count()); n++) {
      const fig = figures.nth(n);
      const step = await fig.locator('g.step line').boundingBox();
      const line = await fig.locator('path.data').boundingBox();
      const svg = await fig.locator('svg').boundingBox();
      if (!step || !line || !svg) throw new Error(`figure ${n} is not drawn`);
      expect(step.width).toBeGreaterThan(0);
      // The data line reaches well past the step: the recovery, not the drafting snapshot.
      expect(line.x + line.width).toBeGreaterThan(step.x + 20);
      expect(svg.x + svg.width).toBeLessThanOrEqual(1280);
    }
    expect(await page.textContent('#chart-freshness')).toMatch(/after the steps ran/);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    mkdirSync('docs', { recursive: true });
    await page.locator('#chart').screenshot({ path: 'docs/page-chart-resolved.png' });
    expect(statSync('docs/page-chart-resolved.png').size).toBeGreaterThan(5_000);
    expect(errors).toEqual([]);
  });
});
