import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { approvalServer, type ApprovalServer } from '../server/approval-server.js';
import { launchChromium } from './browser-session.js';

/**
 * Issue 10, item 1: Enter in the reject-reason field used to submit the form with its first button,
 * Approve. Here a person uses only the keyboard: types into every field of both forms and presses Enter
 * in each. Nothing may ever approve; the one thing Enter can do is the reject whose reason was typed.
 */


let launched: Promise<Browser> | null = null;
let s: ApprovalServer | null = null;
const closers: (() => Promise<void>)[] = [];

function browser(): Promise<Browser> {
  launched ??= launchChromium();
  return launched;
}

afterAll(async () => {
  const b = await launched?.catch(() => null);
  await b?.close();
});

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await s?.close();
  s = null;
});

async function newPage(): Promise<{ page: Page; approvesPosted: string[] }> {
  const ctx = await (await browser()).newContext();
  closers.push(() => ctx.close());
  const page = await ctx.newPage();
  const approvesPosted: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /verdict=approve/.test(r.postData() ?? '')) approvesPosted.push(r.url());
  });
  return { page, approvesPosted };
}

/**
 * Focuses `selector`, types `text` (none for a checkbox: Space ticks it), presses Enter and waits for
 * any navigation. When Enter posted something refused, the page shows why: go back to the form.
 */
async function typeThenEnter(page: Page, selector: string, text: string | null): Promise<void> {
  const before = page.url();
  const field = page.locator(selector);
  await field.focus();
  if (text === null) {
    await page.keyboard.press('Space');
    expect(await field.isChecked()).toBe(true);
  } else await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(400);
  await page.waitForLoadState();
  if ((await page.locator('#error').count()) > 0) {
    expect(await page.textContent('#error')).toMatch(/pressing Enter never approves/);
    await page.goto(before);
  }
}

async function expectNothingApproved(srv: ApprovalServer, incidentId: string, approvesPosted: readonly string[]): Promise<void> {
  expect(approvesPosted).toEqual([]);
  const decisions = await srv.h.store.listDecisions(incidentId);
  expect(decisions.filter((d) => d.verdict === 'approve')).toEqual([]);
}

describe('Enter never approves (real Chromium, keyboard only)', () => {
  it('on the incident page: Enter in the token fields, on the review box and in the reason field approves nothing; the typed reason rejects', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const { page, approvesPosted } = await newPage();
    await page.goto(`${s.url}/incidents/${encodeURIComponent(inc.id)}`);
    expect(await page.locator('form.approve-form input[name="reason"]').count()).toBe(0);
    expect(await page.locator('form.approve-form input[type="text"]').count()).toBe(0);

    // The approve form, filled in completely (a valid token, the box ticked): Enter still does nothing.
    await typeThenEnter(page, 'form.approve-form input[name="token"]', 'demo-token-alice');
    await page.fill('form.approve-form input[name="token"]', 'demo-token-alice');
    await typeThenEnter(page, 'form.approve-form input[name="confirm"]', null);
    // Both filled in, then Enter in the token field again.
    await page.fill('form.approve-form input[name="token"]', 'demo-token-alice');
    await page.check('form.approve-form input[name="confirm"]');
    await typeThenEnter(page, 'form.approve-form input[name="token"]', '');
    await expectNothingApproved(s, inc.id, approvesPosted);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);

    // The reject form: Enter in the token field before a reason is typed sends nothing (reason required).
    await typeThenEnter(page, 'form.reject-form input[name="token"]', 'demo-token-alice');
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    // The reported case: type a reason, press Enter. That rejects; it never approves.
    await Promise.all([page.waitForNavigation(), typeThenEnter(page, 'form.reject-form input[name="reason"]', 'not during the sale')]);
    expect(await page.textContent('#notice')).toMatch(/alice: reject recorded/);
    await expectNothingApproved(s, inc.id, approvesPosted);
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'alice', verdict: 'reject', reason: 'not during the sale' }]);
    await s.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'rejected'));
    expect(s.h.sim.executeCalls()).toBe(0);
  });

  it('on the email-link page: Enter on the review box and in the reason field approves nothing; the typed reason rejects', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const { page, approvesPosted } = await newPage();
    await page.goto(s.link(inc, 'bob'));
    expect(await page.locator('form.approve-form input[type="text"], form.approve-form input[type="password"]').count()).toBe(0);

    await typeThenEnter(page, 'form.approve-form input[name="confirm"]', null);
    await expectNothingApproved(s, inc.id, approvesPosted);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);

    await Promise.all([page.waitForNavigation(), typeThenEnter(page, 'form.reject-form input[name="reason"]', 'wrong pipeline')]);
    expect(await page.textContent('#notice')).toMatch(/bob: reject recorded/);
    await expectNothingApproved(s, inc.id, approvesPosted);
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'bob', verdict: 'reject', channel: 'email', reason: 'wrong pipeline' }]);
    await s.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'rejected'));
    expect(s.h.sim.executeCalls()).toBe(0);
  });

  it('a click on Approve (the box ticked) still approves: the guard stops Enter, not people', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const { page } = await newPage();
    await page.goto(`${s.url}/incidents/${encodeURIComponent(inc.id)}`);
    await page.fill('form.approve-form input[name="token"]', 'demo-token-alice');
    await page.check('form.approve-form input[name="confirm"]');
    await Promise.all([page.waitForNavigation(), page.click('button.approve')]);
    expect(await page.textContent('#notice')).toMatch(/alice: approve recorded \(approved\)/);
  });
});
