import { mkdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { browserSession } from './browser-session.js';

const PHONE = 390;

const session = browserSession();

/** Issue 15 bug 7 on a phone: an on-call engineer opens the link from a page on a 390-px screen. */
describe('the pages on a phone-wide window', () => {
  it('the list and the incident page (awaiting approval, with its audit trail and timeline) fit 390 px without horizontal scrolling; a screenshot into docs/', async () => {
    // Prepare: the demo incident awaiting approval.
    const s = await session.start();
    const inc = await s.awaiting();
    const { page, errors } = await session.page(PHONE, 844);

    // Act + Assess: each page is no wider than the window; nothing but a table's own scroller may be wider.
    for (const path of ['/', `/incidents/${encodeURIComponent(inc.id)}`]) {
      await page.goto(`${s.url}${path}`);
      const wide = await page.evaluate<string[]>(`[...document.querySelectorAll('main > *')].filter((e) => e.getBoundingClientRect().right > ${PHONE} + 1).map((e) => e.id || e.tagName)`);
      expect(wide, path).toEqual([]);
      // The message names the widest elements that stick out, so a failure says what to fix.
      const culprits = await page.evaluate<string>(`[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > ${PHONE} + 1 && !e.closest('table')).slice(-6).map((e) => e.tagName + '#' + e.id + '.' + e.className + ': ' + Math.round(e.getBoundingClientRect().right)).join(', ')`);
      expect(await page.evaluate('document.documentElement.scrollWidth'), `${path}: ${culprits}`).toBeLessThanOrEqual(PHONE);
    }
    expect(await page.locator('#approval button.approve').isVisible()).toBe(true);
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/page-awaiting-phone.png', fullPage: false });
    expect(statSync('docs/page-awaiting-phone.png').size).toBeGreaterThan(5_000);
    expect(errors).toEqual([]);
  });
});
