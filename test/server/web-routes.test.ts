import { afterEach, describe, expect, it } from 'vitest';
import { approvalWebRoutes } from '../../src/server/email-routes.js';
import { OIDC_DATA_HEADER } from '../../src/server/identity.js';
import { albJwt, albKey, approvalServer, cookieFrom, csrfField, type ApprovalServer } from './approval-server.js';

let s: ApprovalServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

describe('web decisions behind an ALB with OIDC', () => {
  it('the verified signed-in approver decides without a token; the decision records the OIDC identity', async () => {
    s = await approvalServer({ withAlb: true });
    const alb = s.alb;
    if (!alb) throw new Error('no ALB');
    const inc = await s.awaiting();
    const headers = { [OIDC_DATA_HEADER]: albJwt(alb, { email: 'carol@example.com' }) };
    const page = await fetch(`${s.url}/incidents/${encodeURIComponent(inc.id)}`, { headers: { ...headers, 'x-forwarded-proto': 'https' } });
    expect(page.headers.get('set-cookie')).toMatch(/^__Host-cloudops_csrf=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    const html = await page.text();
    expect(html).toContain('Signed in as <strong>carol</strong> (oidc:carol@example.com)');
    expect(html).not.toContain('name="token"');
    const res = await fetch(`${s.url}/incidents/${encodeURIComponent(inc.id)}/decision`, {
      method: 'POST',
      headers: { ...headers, cookie: cookieFrom(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ csrf: csrfField(html), verdict: 'reject', reason: 'not during the sale', runbookHash: inc.runbook?.hash ?? '' }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('carol: reject recorded (rejected)');
    expect(await s.h.store.listDecisions(inc.id)).toMatchObject([{ approver: 'carol', verdict: 'reject', channel: 'web', identity: 'oidc:carol@example.com', reason: 'not during the sale' }]);
  });

  it('without ALB settings an x-amzn-oidc-data header is ignored: a token is still required', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const headers = { [OIDC_DATA_HEADER]: albJwt(albKey(), { email: 'alice@example.com' }) };
    const page = await fetch(`${s.url}/incidents/${encodeURIComponent(inc.id)}`, { headers });
    const html = await page.text();
    expect(html).toContain('name="token"');
    const res = await fetch(`${s.url}/incidents/${encodeURIComponent(inc.id)}/decision`, {
      method: 'POST',
      headers: { ...headers, cookie: cookieFrom(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ csrf: csrfField(html), verdict: 'approve', runbookHash: inc.runbook?.hash ?? '' }),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Unknown approver token: nothing was recorded.');
    expect(await s.h.store.listDecisions(inc.id)).toHaveLength(0);
    expect(s.h.sim.executeCalls()).toBe(0);
  });

  it('unknown paths and methods under /email and /incidents get clear errors', async () => {
    s = await approvalServer();
    expect((await fetch(`${s.url}/email/x/y`)).status).toBe(404);
    expect((await fetch(`${s.url}/email/nope?t=abc`, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(`${s.url}/incidents/nope/decision`)).status).toBe(405);
    const r = await fetch(`${s.url}/email/nope?t=abc`);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/malformed/);
    expect(() => approvalWebRoutes(s!.deps, { linkSecret: 'short' })).toThrow(/at least 32 bytes/);
    // Without a secret there are no /email routes at all: nothing answers there.
    const noEmail = approvalWebRoutes(s.deps, {});
    expect(noEmail).toHaveLength(1);
    expect(await noEmail[0]!({ method: 'GET', headers: {} } as never, {} as never, '/email/x', new URL('http://x/email/x'))).toBe(false);
  });
});
