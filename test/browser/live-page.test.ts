import { mkdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { browserSession } from './browser-session.js';


const session = browserSession();

const twoApprovals = (p: CompiledPolicy): CompiledPolicy => ({ ...p, quorum: { ...p.quorum, medium: { ...p.quorum.medium, approvals: 2 } } });

/** Issue 15 items 7, 9, 10, 16: the page an on-call engineer keeps open, in a real Chromium at 1280 px. */
describe('the live incident page', () => {
  it('fits a 1280-px window; a decision made through the API and the final state show without a reload; screenshots into docs/', async () => {
    const srv = await session.start({ edit: twoApprovals });
    const inc = await srv.awaiting();
    const { page, errors } = await session.page(1280, 900);
    await page.goto(`${srv.url}/incidents/${encodeURIComponent(inc.id)}`);
    expect(await page.textContent('#state')).toBe('awaiting approval');
    expect(await page.textContent('#remaining')).toMatch(/virtual ≈ .* real/);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    expect(await page.locator('#timeline tr.tl-proposed').count()).toBe(1);
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/page-awaiting.png', fullPage: true });
    // A marker on the window: a reload would wipe it.
    await page.evaluate('window.marker = 42');

    const decide = (as: string): Promise<Response> =>
      fetch(`${srv.url}/api/incidents/${encodeURIComponent(inc.id)}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer demo-token-${as}`, 'content-type': 'application/json' },
        body: JSON.stringify({ runbookHash: inc.runbook?.hash, as }),
      });
    expect((await decide('bob')).status).toBe(200);
    await page.waitForSelector('#decisions tr.decision >> text=bob', { timeout: 15_000 });
    await page.waitForSelector('#approvals-count:text-is("1 of 2 approvals")', { timeout: 15_000 });
    expect(await page.locator('#timeline tr.tl-decision').count()).toBe(1);

    expect((await decide('carol')).status).toBe(200);
    await srv.watcher.drain();
    await srv.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 80);
    await page.waitForSelector('#state:has-text("resolved")', { timeout: 15_000 });
    await page.waitForSelector('#timeline tr.tl-step', { timeout: 15_000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(await page.locator('#approval .big').textContent()).toMatch(/^resolved/);
    expect(await page.locator('.signal-now').allTextContents()).not.toContain('ongoing');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: 'docs/page-resolved.png', fullPage: true });
    expect(statSync('docs/page-resolved.png').size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  });
});
