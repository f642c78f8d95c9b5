import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { approvalServer, cookieFrom, csrfField, type ApprovalServer } from '../server/approval-server.js';

/**
 * Issue 10 against the web and email pages and the JSON API, over real HTTP: each refusal records no
 * decision, and the incident ends with nothing executed.
 */

let s: ApprovalServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const twoApprovals = (p: CompiledPolicy): CompiledPolicy => ({ ...p, quorum: { ...p.quorum, medium: { ...p.quorum.medium, approvals: 2 } } });

async function open(url: string, headers: Record<string, string> = {}): Promise<{ html: string; cookie: string; csrf: string }> {
  const res = await fetch(url, { headers });
  const html = await res.text();
  return { html, cookie: cookieFrom(res), csrf: csrfField(html) };
}

function post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}

const pageUrl = (srv: ApprovalServer, inc: Incident): string => `${srv.url}/incidents/${encodeURIComponent(inc.id)}`;
const decideUrl = (srv: ApprovalServer, inc: Incident): string => `${pageUrl(srv, inc)}/decision`;
const emailUrl = (srv: ApprovalServer, inc: Incident): string => `${srv.url}/email/${encodeURIComponent(inc.id)}`;

async function expectNothingRuns(srv: ApprovalServer, inc: Incident): Promise<void> {
  await srv.watcher.drain();
  const incs = await srv.runUntil((all) => all.some((i) => i.id === inc.id && i.state !== 'awaiting_approval'), 200);
  expect(['expired', 'rejected']).toContain(incs.find((i) => i.id === inc.id)?.state);
  expect(srv.h.sim.executeCalls()).toBe(0);
}

describe('item 1: an approval posted with a reject reason, without the review box, or by Enter is refused', () => {
  it('on the incident page form', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const v = await open(pageUrl(s, inc));
    const base = { csrf: v.csrf, token: 'demo-token-alice', runbookHash: inc.runbook?.hash ?? '' };
    const cases: [Record<string, string>, RegExp][] = [
      [{ verdict: 'approve', confirm: 'yes', reason: 'typed a reason, meant to reject' }, /an approval carries no reason/],
      [{ verdict: 'approve' }, /I reviewed the actions above&quot; to approve; nothing was recorded/],
      [{ verdict: 'enter', confirm: 'yes' }, /pressing Enter never approves/],
      [{ confirm: 'yes' }, /verdict must be approve or reject/],
    ];
    for (const [fields, why] of cases) {
      const res = await post(decideUrl(s, inc), { ...base, ...fields }, { cookie: v.cookie });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(why);
    }
    // Two verdicts in one post (approve smuggled next to reject) are ambiguous: refused.
    const both = new URLSearchParams({ ...base, reason: 'no', confirm: 'yes' });
    both.append('verdict', 'reject');
    both.append('verdict', 'approve');
    const r = await fetch(decideUrl(s, inc), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: v.cookie }, body: both.toString() });
    expect(r.status).toBe(400);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    await expectNothingRuns(s, inc);
  });

  it('on the email-link page form, and the link stays usable', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'bob');
    const v = await open(link);
    const base = { csrf: v.csrf, t: new URL(link).searchParams.get('t') ?? '', runbookHash: inc.runbook?.hash ?? '' };
    const withReason = await post(emailUrl(s, inc), { ...base, verdict: 'approve', confirm: 'yes', reason: 'wrong pipeline' }, { cookie: v.cookie });
    expect(withReason.status).toBe(400);
    expect(await withReason.text()).toMatch(/an approval carries no reason/);
    const byEnter = await post(emailUrl(s, inc), { ...base, verdict: 'enter', confirm: 'yes' }, { cookie: v.cookie });
    expect(byEnter.status).toBe(400);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    // Refusals did not use the link up: the intended reject still goes through.
    const reject = await post(emailUrl(s, inc), { ...base, verdict: 'reject', reason: 'wrong pipeline' }, { cookie: v.cookie });
    expect(reject.status).toBe(200);
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'bob', verdict: 'reject' }]);
    await expectNothingRuns(s, inc);
  });
});

describe('item 10: CSRF, content types and malformed escapes', () => {
  it('a cross-origin Origin (or Referer, or "null") is refused even with a valid cookie and token', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const v = await open(pageUrl(s, inc));
    const fields = { csrf: v.csrf, token: 'demo-token-alice', runbookHash: inc.runbook?.hash ?? '', verdict: 'approve', confirm: 'yes' };
    for (const h of [{ origin: 'https://evil.example' } as Record<string, string>, { origin: 'null' }, { referer: 'http://evil.example/page' }, { origin: `${s.url}.evil.example` }]) {
      const res = await post(decideUrl(s, inc), fields, { cookie: v.cookie, ...h });
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/CSRF check failed/);
    }
    const link = s.link(inc, 'alice');
    const e = await open(link);
    const emailRes = await post(emailUrl(s, inc), { csrf: e.csrf, t: new URL(link).searchParams.get('t') ?? '', verdict: 'approve', confirm: 'yes' }, { cookie: e.cookie, origin: 'https://evil.example' });
    expect(emailRes.status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    // The same post from this origin goes through.
    const ok = await post(decideUrl(s, inc), fields, { cookie: v.cookie, origin: s.url });
    expect(ok.status).toBe(200);
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'alice', verdict: 'approve' }]);
  });

  it('the cookie is __Host- prefixed, and the form token is bound to it: the cookie value alone, or another visitor\'s token, is refused', async () => {
    s = await approvalServer({ edit: twoApprovals });
    const inc = await s.awaiting();
    const res = await fetch(pageUrl(s, inc));
    expect(res.headers.get('set-cookie')).toMatch(/^__Host-cloudops_csrf=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    expect(res.headers.get('set-cookie')).not.toMatch(/Domain=/i);
    const v = { cookie: cookieFrom(res), csrf: csrfField(await res.text()) };
    const other = await open(pageUrl(s, inc));
    const cookieValue = v.cookie.split('=').slice(1).join('=');
    expect(v.csrf).not.toBe(cookieValue);
    const fields = { token: 'demo-token-alice', runbookHash: inc.runbook?.hash ?? '', verdict: 'approve', confirm: 'yes' };
    // Double-submit of the cookie value (the old scheme) no longer passes.
    expect((await post(decideUrl(s, inc), { ...fields, csrf: cookieValue }, { cookie: v.cookie })).status).toBe(403);
    // Another visitor's token with my cookie.
    expect((await post(decideUrl(s, inc), { ...fields, csrf: other.csrf }, { cookie: v.cookie })).status).toBe(403);
    // A cookie without the __Host- prefix (planted by a sibling subdomain) is not ours.
    expect((await post(decideUrl(s, inc), { ...fields, csrf: v.csrf }, { cookie: `cloudops_csrf=${cookieValue}` })).status).toBe(403);
    // An email-link page's token does not work on another link.
    const e1 = await open(s.link(inc, 'alice'));
    const l2 = s.link(inc, 'bob');
    const r = await post(emailUrl(s, inc), { csrf: e1.csrf, t: new URL(l2).searchParams.get('t') ?? '', verdict: 'approve', confirm: 'yes' }, { cookie: e1.cookie });
    expect(r.status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    await expectNothingRuns(s, inc);
  });

  it('the JSON API takes exactly application/json: text/plain with a json parameter, form bodies and odd parameters are 415', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const body = JSON.stringify({ runbookHash: inc.runbook?.hash ?? '' });
    const url = `${s.url}/api/incidents/${encodeURIComponent(inc.id)}/approve`;
    for (const type of ['text/plain; x=application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=application/json', 'application/jsonp', 'application/json; x=y', 'text/plain']) {
      const res = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer demo-token-alice', 'content-type': type }, body });
      expect(res.status, type).toBe(415);
    }
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    const ok = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'Application/JSON; charset=UTF-8' }, body });
    expect(ok.status).toBe(200);
  });

  it('a malformed %-escape in a path or a cookie answers 400 (not 500), on pages, email links and the API', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    for (const path of ['/incidents/%E0%A4%A', '/incidents/%zz/decision', '/email/%', '/api/incidents/%E0%A4%A']) {
      const res = await fetch(`${s.url}${path}`, { method: path.endsWith('decision') ? 'POST' : 'GET' });
      expect(res.status, path).toBe(400);
    }
    const del = await fetch(`${s.url}/api/silences/%E0`, { method: 'DELETE', headers: { authorization: 'Bearer demo-token-alice' } });
    expect(del.status).toBe(400);
    const page = await fetch(pageUrl(s, inc), { headers: { cookie: '__Host-cloudops_csrf=%E0%A4%A; other=%' } });
    expect(page.status).toBe(200);
    const res = await post(decideUrl(s, inc), { csrf: 'x', token: 'demo-token-alice', verdict: 'approve', confirm: 'yes', runbookHash: inc.runbook?.hash ?? '' }, { cookie: '__Host-cloudops_csrf=%E0%A4%A' });
    expect(res.status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
  });
});

describe('item 5: with ALB OIDC on, approver tokens decide nothing unless the policy allows them', () => {
  it('the web form token field and a bearer token are refused (403); the page asks to sign in; nothing executes', async () => {
    s = await approvalServer({ withAlb: true });
    const inc = await s.awaiting();
    const page = await fetch(pageUrl(s, inc));
    const html = await page.text();
    expect(html).toContain('Sign in through the load balancer to decide');
    expect(html).not.toContain('name="token"');
    // A form made by hand, with a valid CSRF pair from the page, and a valid approver token.
    const withForm = await open(s.link(inc, 'alice'));
    const web = await post(decideUrl(s, inc), { csrf: withForm.csrf, token: 'demo-token-alice', runbookHash: inc.runbook?.hash ?? '', verdict: 'approve', confirm: 'yes' }, { cookie: withForm.cookie });
    expect(web.status).toBe(403);
    expect(await web.text()).toMatch(/approver tokens do not decide while ALB OIDC sign-in is on/);
    const api = await fetch(`${s.url}/api/incidents/${encodeURIComponent(inc.id)}/approve`, { method: 'POST', headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' }, body: JSON.stringify({ runbookHash: inc.runbook?.hash ?? '' }) });
    expect(api.status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toEqual([]);
    await expectNothingRuns(s, inc);
  });

  it('with server.albOidc.allowTokens: true a bearer token decides again', async () => {
    s = await approvalServer({ withAlb: true, allowTokens: true });
    const inc = await s.awaiting();
    const api = await fetch(`${s.url}/api/incidents/${encodeURIComponent(inc.id)}/approve`, { method: 'POST', headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' }, body: JSON.stringify({ runbookHash: inc.runbook?.hash ?? '' }) });
    expect(api.status).toBe(200);
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'alice', channel: 'api' }]);
  });
});
