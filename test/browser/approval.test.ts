import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { approvalServer, type ApprovalServer } from '../server/approval-server.js';
import { launchChromium } from './browser-session.js';


let launched: Promise<Browser> | null = null;
let s: ApprovalServer | null = null;
const closers: (() => Promise<void>)[] = [];

/** The browser, launched once. Without one every test fails (never skips) and says how to get it. */
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

async function newPage(): Promise<Page> {
  const ctx = await (await browser()).newContext();
  closers.push(() => ctx.close());
  return ctx.newPage();
}

const twoApprovals = (p: CompiledPolicy): CompiledPolicy => ({ ...p, quorum: { ...p.quorum, medium: { ...p.quorum.medium, approvals: 2 } } });

async function settle(srv: ApprovalServer, inc: Incident, states: readonly string[]): Promise<Incident> {
  await srv.watcher.drain();
  const incs = await srv.runUntil((all) => all.some((i) => i.id === inc.id && states.includes(i.state)), 200);
  const found = incs.find((i) => i.id === inc.id);
  if (!found) throw new Error('incident vanished');
  return found;
}

describe('the incident page in a real browser', () => {
  it('shows everything an approver needs, and approving through the page runs the runbook to resolved', async () => {
    await browser();
    s = await approvalServer();
    const inc = await s.awaiting();
    const page = await newPage();
    const res = await page.goto(`${s.url}/incidents/${encodeURIComponent(inc.id)}`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('#state')).toBe('awaiting approval');
    expect(await page.textContent('#still-needed')).toBe('1 more needed');
    expect(await page.textContent('#remaining')).toMatch(/\d+ (min|h)/);
    expect(await page.textContent('#actions .action-name')).toBe('codepipeline.rollback');
    expect(await page.textContent('#actions .target')).toMatch(/^pipeline checkout-deploy/);
    // One chart per signal metric (small multiples), each with its anomaly window and the suspect marked once.
    const charts = await page.locator('#chart svg').count();
    expect(charts).toBe(inc.chart?.series?.length);
    expect(await page.locator('#chart svg rect.anomaly').count()).toBe(charts);
    expect(await page.locator('#chart svg g.deployment.suspect').count()).toBe(charts);
    expect(await page.textContent('#suspect')).toContain(inc.correlation?.suspect?.deployment.id ?? 'no suspect');
    expect(await page.locator('#evidence tr').count()).toBeGreaterThan(1);

    await page.fill('form.approve-form input[name="token"]', 'demo-token-alice');
    await page.check('form.approve-form input[name="confirm"]');
    await Promise.all([page.waitForNavigation(), page.click('button.approve')]);
    expect(await page.textContent('#notice')).toMatch(/alice: approve recorded \(approved\)/);

    const done = await settle(s, inc, ['resolved', 'not_recovered', 'failed', 'needs_human']);
    expect(done.state).toBe('resolved');
    expect(s.h.sim.executeCalls()).toBe(1);
    await page.reload();
    expect(await page.textContent('#state')).toMatch(/^resolved/);
    expect(await page.textContent('#decisions tr.decision .channel')).toBe('web');
    expect(await page.textContent('#decisions tr.decision .identity')).toBe('token:alice');
    expect(await page.locator('form.decide').count()).toBe(0);
  });

  it('an email link: opening it decides nothing; ticking the box and approving on the page does, once', async () => {
    await browser();
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'bob');
    const page = await newPage();
    await page.goto(link);
    expect(await page.textContent('#who')).toContain('bob');
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    // The box must be ticked: the browser itself refuses to submit without it (required), nothing is sent.
    await page.click('button.approve');
    expect(page.url()).toBe(link);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    await page.check('input[name="confirm"]');
    await Promise.all([page.waitForNavigation(), page.click('button.approve')]);
    expect(await page.textContent('#notice')).toMatch(/bob: approve recorded \(approved\)\. This link is now used/);
    const done = await settle(s, inc, ['resolved', 'not_recovered', 'failed', 'needs_human']);
    expect(done.state).toBe('resolved');
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'bob', channel: 'email', identity: 'email-link:bob' }]);
    expect(s.h.sim.executeCalls()).toBe(1);
  });

  it('a GET-only visit of an email link (a scanner rendering the page, several times) changes nothing', async () => {
    await browser();
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const auditBefore = (await s.h.store.listAudit({ incidentId: inc.id })).length;
    for (let n = 0; n < 3; n++) {
      const page = await newPage();
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() !== 'GET') posts.push(`${r.method()} ${r.url()}`);
      });
      const res = await page.goto(link, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      await page.waitForTimeout(300);
      expect(posts).toEqual([]);
      expect(await page.textContent('#notice')).toContain('Opening this link decided nothing');
    }
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    expect((await s.h.store.listAudit({ incidentId: inc.id })).length).toBe(auditBefore);
    const end = await settle(s, inc, ['expired', 'resolved', 'rejected']);
    expect(end.state).toBe('expired');
    expect(s.h.sim.executeCalls()).toBe(0);
  });

  it('a POST without the CSRF token is refused: a cross-site form, and the page form with the token removed', async () => {
    await browser();
    s = await approvalServer({ edit: twoApprovals });
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const token = new URL(link).searchParams.get('t') ?? '';
    // An attacker's page on another site (localhost vs 127.0.0.1) that auto-submits a form to the watcher.
    const target = s.url;
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${target}/email/${encodeURIComponent(inc.id)}">
<input name="t" value="${token}"><input name="verdict" value="approve"><input name="confirm" value="yes"></form>
<form id="g" method="post" action="${target}/incidents/${encodeURIComponent(inc.id)}/decision"><input name="token" value="demo-token-alice"><input name="verdict" value="approve"><input name="runbookHash" value="${inc.runbook?.hash ?? ''}"></form>
<script>document.getElementById(location.hash === '#g' ? 'g' : 'f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => evil.close(() => r())));
    const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;

    const page = await newPage();
    await page.goto(link); // the victim has the page's CSRF cookie
    for (const hash of ['', '#g']) {
      const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.goto(evilUrl + hash)]);
      expect(resp.status()).toBe(403);
      await page.waitForLoadState();
      expect(await page.textContent('#error')).toMatch(/CSRF check failed/);
    }
    // Same origin, but the hidden CSRF field removed before submitting.
    await page.goto(link);
    await page.locator('form.approve-form input[name="csrf"]').evaluate((el) => el.remove());
    await page.check('input[name="confirm"]');
    const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button.approve')]);
    expect(resp.status()).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    const end = await settle(s, inc, ['expired', 'resolved', 'rejected']);
    expect(end.state).toBe('expired');
    expect(s.h.sim.executeCalls()).toBe(0);
  });
});
