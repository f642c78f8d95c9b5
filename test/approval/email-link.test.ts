import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailLinkError, EmailLinkUses, signEmailLinkToken, verifyEmailLinkToken, emailLinkUrl } from '../../src/approval/email-link.js';
import type { Incident } from '../../src/incident/incident.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { OIDC_DATA_HEADER } from '../../src/server/identity.js';
import { albJwt, approvalServer, cookieFrom, csrfField, LINK_SECRET, type ApprovalServer } from '../server/approval-server.js';

// Every adversarial case ends the same way: no decision counted, and zero executed actions even after
// the request runs out its TTL.

let s: ApprovalServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

/** Two approvals needed for the medium-risk rollback, so one recorded approval alone runs nothing. */
const twoApprovals = (p: CompiledPolicy): CompiledPolicy => ({ ...p, quorum: { ...p.quorum, medium: { ...p.quorum.medium, approvals: 2 } } });

async function openLink(link: string, extra: Record<string, string> = {}): Promise<{ res: Response; html: string; cookie: string; csrf: string | null }> {
  const res = await fetch(link, { headers: extra, redirect: 'manual' });
  const html = await res.text();
  let csrf: string | null = null;
  try {
    csrf = csrfField(html);
  } catch {
    csrf = null;
  }
  return { res, html, cookie: cookieFrom(res), csrf };
}

function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}

const tokenOf = (link: string): string => new URL(link).searchParams.get('t') ?? '';
const jtiOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { jti: string }).jti;
const postUrl = (srv: ApprovalServer, id: string): string => `${srv.url}/email/${encodeURIComponent(id)}`;

/** Runs the clock past the approval's TTL and checks nothing ever executed. */
async function expectNothingRuns(srv: ApprovalServer, inc: Incident): Promise<void> {
  await srv.watcher.drain();
  const incs = await srv.runUntil((all) => all.some((i) => i.id === inc.id && i.state !== 'awaiting_approval'), 200);
  const end = incs.find((i) => i.id === inc.id);
  expect(['expired', 'rejected']).toContain(end?.state);
  expect(end?.steps).toHaveLength(0);
  expect(srv.h.sim.executeCalls()).toBe(0);
}

describe('email-link tokens (pure)', () => {
  const claims = { inc: 'inc-1', rh: `sha256:${'a'.repeat(64)}`, ap: 'alice', exp: 2_000, jti: 'abcdefghijkl' };

  it('round-trips and refuses another incident, expiry, tampering, another secret and short secrets', () => {
    const t = signEmailLinkToken(LINK_SECRET, claims);
    expect(verifyEmailLinkToken(LINK_SECRET, t, { incidentId: 'inc-1', now: 1_999 })).toEqual({ v: 1, ...claims });
    const problem = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        if (err instanceof EmailLinkError) return err.problem;
        throw err;
      }
      return 'accepted';
    };
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, t, { incidentId: 'inc-2', now: 0 }))).toBe('other_incident');
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, t, { incidentId: 'inc-1', now: 2_000 }))).toBe('expired');
    expect(problem(() => verifyEmailLinkToken('another-secret-of-at-least-32-bytes!!', t, { incidentId: 'inc-1', now: 0 }))).toBe('bad_signature');
    const [payload, sig] = t.split('.');
    const evil = Buffer.from(JSON.stringify({ v: 1, ...claims, ap: 'bob' })).toString('base64url');
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, `${evil}.${sig}`, { incidentId: 'inc-1', now: 0 }))).toBe('bad_signature');
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, `${payload}.`, { incidentId: 'inc-1', now: 0 }))).toBe('malformed');
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, '', { incidentId: 'inc-1', now: 0 }))).toBe('malformed');
    expect(problem(() => verifyEmailLinkToken(LINK_SECRET, 'x'.repeat(5000), { incidentId: 'inc-1', now: 0 }))).toBe('malformed');
    expect(() => signEmailLinkToken('short', claims)).toThrow(/at least 32 bytes/);
    expect(emailLinkUrl('https://ops.example.com/', 'inc 1', 'a.b')).toBe('https://ops.example.com/email/inc%201?t=a.b');
  });
});

describe('email links over HTTP: adversarial cases execute nothing', () => {
  it('a GET-only visit (a mail scanner, repeated, with HEAD too) shows a confirmation page and changes nothing', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const auditBefore = (await s.h.store.listAudit({ incidentId: inc.id })).length;
    for (let n = 0; n < 3; n++) {
      const v = await openLink(link, { 'user-agent': 'Mozilla/5.0 (Safe Links scanner)' });
      expect(v.res.status).toBe(200);
      expect(v.html).toContain('Opening this link decided nothing');
      expect(v.html).toContain(`action="/email/${encodeURIComponent(inc.id)}"`);
      expect(v.html).not.toMatch(/<script/i);
    }
    const head = await fetch(link, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    expect(await new EmailLinkUses(s.h.store).usedAt(jtiOf(tokenOf(link)))).toBeNull();
    expect((await s.h.store.listAudit({ incidentId: inc.id })).length).toBe(auditBefore);
    expect((await s.h.store.getIncident(inc.id))?.state).toBe('awaiting_approval');
    await expectNothingRuns(s, inc);
  });

  it('a POST without the CSRF token (or with a wrong one, or no cookie) is refused; the link stays unused', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const v = await openLink(link);
    if (!v.csrf) throw new Error('no form');
    const fields = { t: tokenOf(link), verdict: 'approve', confirm: 'yes', runbookHash: inc.runbook?.hash ?? '' };
    const noField = await postForm(postUrl(s, inc.id), fields, { cookie: v.cookie });
    expect(noField.status).toBe(403);
    expect(await noField.text()).toMatch(/CSRF check failed/);
    expect((await postForm(postUrl(s, inc.id), { ...fields, csrf: 'x'.repeat(v.csrf.length) }, { cookie: v.cookie })).status).toBe(403);
    expect((await postForm(postUrl(s, inc.id), { ...fields, csrf: v.csrf })).status).toBe(403);
    // The page form without an approver token, too.
    expect((await postForm(`${s.url}/incidents/${encodeURIComponent(inc.id)}/decision`, { verdict: 'approve', token: 'demo-token-alice', runbookHash: inc.runbook?.hash ?? '' })).status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    expect(await s.h.store.getValue(EmailLinkUses.key(jtiOf(tokenOf(link))))).toBeNull();
    await expectNothingRuns(s, inc);
  });

  it('bad HTTP input gets a clear error and loses nothing: wrong content type, huge body, no verdict, box not ticked', async () => {
    s = await approvalServer({ edit: twoApprovals });
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const v = await openLink(link);
    if (!v.csrf) throw new Error('no form');
    const ok = { t: tokenOf(link), csrf: v.csrf, verdict: 'approve', confirm: 'yes', runbookHash: inc.runbook?.hash ?? '' };
    const json = await fetch(postUrl(s, inc.id), { method: 'POST', headers: { 'content-type': 'application/json', cookie: v.cookie }, body: JSON.stringify(ok) });
    expect(json.status).toBe(415);
    const huge = await postForm(postUrl(s, inc.id), { ...ok, reason: 'x'.repeat(100_000) }, { cookie: v.cookie });
    expect(huge.status).toBe(413);
    const noVerdict = await postForm(postUrl(s, inc.id), { ...ok, verdict: 'maybe' }, { cookie: v.cookie });
    expect(noVerdict.status).toBe(400);
    const noBox = await postForm(postUrl(s, inc.id), { ...ok, confirm: '' }, { cookie: v.cookie });
    expect(noBox.status).toBe(400);
    expect(await noBox.text()).toMatch(/I reviewed the actions above/);
    const badHash = await postForm(postUrl(s, inc.id), { ...ok, runbookHash: `sha256:${'0'.repeat(64)}` }, { cookie: v.cookie });
    expect(badHash.status).toBe(409);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    // Nothing was lost: the same link still decides once (one approval of two: still nothing runs).
    const good = await postForm(postUrl(s, inc.id), ok, { cookie: v.cookie });
    expect(good.status).toBe(200);
    const decisions = await s.h.store.listDecisions(inc.id);
    expect(decisions).toMatchObject([{ approver: 'alice', verdict: 'approve', channel: 'email', identity: 'email-link:alice' }]);
    await expectNothingRuns(s, inc);
  });

  it('a replayed token is refused (single use, recorded in the store)', async () => {
    s = await approvalServer({ edit: twoApprovals });
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const v = await openLink(link);
    if (!v.csrf) throw new Error('no form');
    const fields = { t: tokenOf(link), csrf: v.csrf, verdict: 'approve', confirm: 'yes', runbookHash: inc.runbook?.hash ?? '' };
    expect((await postForm(postUrl(s, inc.id), fields, { cookie: v.cookie })).status).toBe(200);
    const replay = await postForm(postUrl(s, inc.id), fields, { cookie: v.cookie });
    expect(replay.status).toBe(409);
    expect(await replay.text()).toMatch(/already used/);
    // As a reject, too, and concurrently.
    const target = postUrl(s, inc.id);
    const again = await Promise.all([1, 2, 3].map(() => postForm(target, { ...fields, verdict: 'reject', reason: 'replay' }, { cookie: v.cookie })));
    expect(again.map((r) => r.status)).toEqual([409, 409, 409]);
    // Opening the used link shows that it was used, without a form.
    const reopened = await openLink(link);
    expect(reopened.res.status).toBe(409);
    expect(reopened.csrf).toBeNull();
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(1);
    await expectNothingRuns(s, inc);
  });

  it('a token for another incident is refused, whichever way round', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const other = signEmailLinkToken(LINK_SECRET, { inc: 'inc-other', rh: inc.approval?.runbookHash ?? '', ap: 'alice', exp: inc.approval?.expiresAt ?? 0 });
    const v = await openLink(`${s.url}/email/${encodeURIComponent(inc.id)}?t=${encodeURIComponent(other)}`);
    expect(v.res.status).toBe(403);
    expect(v.html).toMatch(/this link is for incident inc-other/);
    const good = await openLink(s.link(inc, 'alice'));
    if (!good.csrf) throw new Error('no form');
    const res = await postForm(postUrl(s, inc.id), { t: other, csrf: good.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: good.cookie });
    expect(res.status).toBe(403);
    const elsewhere = await postForm(postUrl(s, 'inc-other'), { t: tokenOf(s.link(inc, 'alice')), csrf: good.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: good.cookie });
    expect(elsewhere.status).toBe(403);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    await expectNothingRuns(s, inc);
  });

  it('a token for another runbook hash is refused (GET explains, POST refuses)', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const stale = signEmailLinkToken(LINK_SECRET, { inc: inc.id, rh: `sha256:${'0'.repeat(64)}`, ap: 'alice', exp: inc.approval?.expiresAt ?? 0 });
    const v = await openLink(`${s.url}/email/${encodeURIComponent(inc.id)}?t=${encodeURIComponent(stale)}`);
    expect(v.res.status).toBe(409);
    expect(v.html).toMatch(/another version of the runbook/);
    expect(v.html).not.toContain('name="t"');
    const good = await openLink(s.link(inc, 'alice'));
    if (!good.csrf) throw new Error('no form');
    const res = await postForm(postUrl(s, inc.id), { t: stale, csrf: good.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: good.cookie });
    expect(res.status).toBe(409);
    expect(await res.text()).toMatch(/another version of the runbook/);
    expect(await new EmailLinkUses(s.h.store).usedAt(jtiOf(stale))).toBeNull();
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    await expectNothingRuns(s, inc);
  });

  it('an expired token is refused, and a forged signature too', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const link = s.link(inc, 'alice');
    const v = await openLink(link);
    if (!v.csrf) throw new Error('no form');
    const expired = signEmailLinkToken(LINK_SECRET, { inc: inc.id, rh: inc.approval?.runbookHash ?? '', ap: 'alice', exp: s.h.clock.now() - 1 });
    const r1 = await postForm(postUrl(s, inc.id), { t: expired, csrf: v.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: v.cookie });
    expect(r1.status).toBe(410);
    expect(await r1.text()).toMatch(/expired/);
    const forged = signEmailLinkToken('an-attacker-secret-of-32-bytes-or-more', { inc: inc.id, rh: inc.approval?.runbookHash ?? '', ap: 'carol', exp: inc.approval?.expiresAt ?? 0 });
    expect((await postForm(postUrl(s, inc.id), { t: forged, csrf: v.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: v.cookie })).status).toBe(401);
    expect((await openLink(`${s.url}/email/${encodeURIComponent(inc.id)}`)).res.status).toBe(400);
    // The real link, once the request's TTL has passed on the clock.
    s.h.clock.advance((inc.approval?.expiresAt ?? 0) - s.h.clock.now() + 1);
    const late = await postForm(postUrl(s, inc.id), { t: tokenOf(link), csrf: v.csrf, verdict: 'approve', confirm: 'yes' }, { cookie: v.cookie });
    expect(late.status).toBe(410);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    await expectNothingRuns(s, inc);
  });

  it('a forged or unsigned OIDC header is refused on the page form and on email links', async () => {
    s = await approvalServer({ withAlb: true });
    const alb = s.alb;
    if (!alb) throw new Error('no ALB key');
    const inc = await s.awaiting();
    const page = await fetch(`${s.url}/incidents/${encodeURIComponent(inc.id)}`, { headers: { [OIDC_DATA_HEADER]: albJwt(alb, { email: 'alice@example.com' }) } });
    const html = await page.text();
    expect(html).toContain('Signed in as <strong>alice</strong>');
    const csrf = csrfField(html);
    const cookie = cookieFrom(page);
    const { privateKey: other } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [, payload] = albJwt(alb).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: alb.kid, signer: 'x', client: 'y' })).toString('base64url')}.${payload}.`;
    const fields = { csrf, verdict: 'approve', runbookHash: inc.runbook?.hash ?? '' };
    for (const header of [albJwt(alb, { key: other, email: 'alice@example.com' }), unsigned, 'garbage']) {
      const r = await postForm(`${s.url}/incidents/${encodeURIComponent(inc.id)}/decision`, { ...fields, token: 'demo-token-alice' }, { cookie, [OIDC_DATA_HEADER]: header });
      expect(r.status).toBe(401);
      expect(await r.text()).toMatch(/did not verify/);
    }
    // Signed in as a non-approver.
    const mallory = await postForm(`${s.url}/incidents/${encodeURIComponent(inc.id)}/decision`, fields, { cookie, [OIDC_DATA_HEADER]: albJwt(alb, { email: 'mallory@example.com' }) });
    expect(mallory.status).toBe(403);
    // Email link: behind the ALB the signed-in person must be the one the link was sent to, and signed in at all.
    const link = s.link(inc, 'alice');
    const emailFields = { t: tokenOf(link), csrf, verdict: 'approve', confirm: 'yes' };
    expect((await postForm(postUrl(s, inc.id), emailFields, { cookie, [OIDC_DATA_HEADER]: albJwt(alb, { key: other }) })).status).toBe(401);
    expect((await postForm(postUrl(s, inc.id), emailFields, { cookie })).status).toBe(401);
    const asBob = await postForm(postUrl(s, inc.id), emailFields, { cookie, [OIDC_DATA_HEADER]: albJwt(alb, { email: 'bob@example.com' }) });
    expect(asBob.status).toBe(403);
    expect(await asBob.text()).toMatch(/sent to alice, but you are signed in as bob/);
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    await expectNothingRuns(s, inc);
  });
});
