import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { stepDoneRequest } from '../../src/cli/step-commands.js';
import { demoToken } from '../../src/daemon.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { cookieFrom, csrfField } from '../server/approval-server.js';
import { atManualStep, manualFirstWorld } from '../helpers/manual-step-world.js';

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

async function served() {
  const { w, watcher } = manualFirstWorld();
  const inc = await atManualStep(w, watcher);
  const server: Server = createHttpServer({
    store: w.store,
    policy: w.files.policy,
    clock: w.clock,
    watcher,
    logger: w.deps.logger,
    registry: new Registry(),
    ready: () => ({ ok: true, why: 'test' }),
    approveCommand: (id: string, who: string) => `cloudops approve ${id} --as ${who}`,
  });
  const port = await listen(server, 0, '127.0.0.1');
  close = async () => {
    await watcher.drain();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { w, watcher, inc, url: `http://127.0.0.1:${port}` };
}

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

describe('marking a manual step done over HTTP and from the CLI (issue 12 item 1)', () => {
  it('the CLI request (cloudops step done ID 1 --as bob --note …) marks it done, audited as channel cli; a second one is a 409', async () => {
    const { w, inc, url } = await served();
    const { path, init } = stepDoneRequest(inc.id, '1', { as: 'bob', note: 'paused' }, demoToken('bob'));
    const res = await fetch(new URL(path, url), init);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { step: { status: string; summary: string } }).step).toMatchObject({ status: 'succeeded', summary: 'done by bob: paused' });
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'step.done');
    expect(audit?.data).toMatchObject({ identity: 'token:bob', channel: 'cli', note: 'paused' });

    const again = await fetch(new URL(path, url), init);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toMatch(/was already marked done \(done by bob: paused\)/);
  });

  it('a plain JSON API call is audited as channel api; a caller may claim only api or cli, and only with a valid token', async () => {
    const { w, inc, url } = await served();
    const post = (token: string | null, body: unknown): Promise<Response> =>
      fetch(`${url}/api/incidents/${inc.id}/steps/1/done`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    for (const via of ['web', 'slack', 'email']) {
      const claimed = await post(demoToken('bob'), { via });
      expect(claimed.status).toBe(400);
      expect(((await claimed.json()) as { error: string }).error).toBe('via: expected "api" or "cli" (the page, Slack and email mark steps through their own routes)');
    }
    expect((await post(null, { via: 'cli' })).status).toBe(401);
    expect((await w.store.getIncident(inc.id))?.version).toBe(inc.version);

    expect((await post(demoToken('bob'), { note: 'by script' })).status).toBe(200);
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'step.done');
    expect(audit?.data).toMatchObject({ identity: 'token:bob', channel: 'api', note: 'by script' });
  });

  it('refuses without a token (401), a token of another person (403), a non-approver of the incident (403), a bad step number (400) — and changes nothing', async () => {
    const { w, inc, url } = await served();
    const post = (step: string, token: string | null, body: unknown): Promise<Response> =>
      fetch(`${url}/api/incidents/${inc.id}/steps/${step}/done`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    expect((await post('1', null, {})).status).toBe(401);
    expect((await post('1', demoToken('alice'), { as: 'bob' })).status).toBe(403);
    const carol = await post('1', demoToken('carol'), {});
    expect(carol.status).toBe(403);
    expect(((await carol.json()) as { error: string }).error).toMatch(/^carol is not an approver of/);
    expect((await post('x', demoToken('bob'), {})).status).toBe(400);
    expect((await post('1', demoToken('bob'), { extra: true })).status).toBe(400);
    expect((await w.store.getIncident(inc.id))?.version).toBe(inc.version);
  });

  it('the page shows a "Mark step 1 done" form while the step waits; the form needs the CSRF token and an approver token, then records it', async () => {
    const { w, inc, url } = await served();
    const page = await fetch(`${url}/incidents/${encodeURIComponent(inc.id)}`);
    const html = await page.text();
    expect(html).toContain('Mark step 1 done');
    expect(html).toContain(`action="/incidents/${inc.id}/steps/1/done"`);
    const target = `${url}/incidents/${encodeURIComponent(inc.id)}/steps/1/done`;
    const headers = { cookie: cookieFrom(page), 'content-type': 'application/x-www-form-urlencoded' };

    const noCsrf = await fetch(target, { method: 'POST', headers, body: form({ token: demoToken('bob'), note: 'x' }) });
    expect(noCsrf.status).toBe(403);
    expect((await w.store.getIncident(inc.id))?.steps[0]?.status).toBe('awaiting_person');

    const ok = await fetch(target, { method: 'POST', headers, body: form({ csrf: csrfField(html), token: demoToken('bob'), note: 'queue paused' }) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('bob: step 1 marked done; the run continues with the next step.');
    expect((await w.store.getIncident(inc.id))?.steps[0]).toMatchObject({ status: 'succeeded', summary: 'done by bob: queue paused' });
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'step.done');
    expect(audit?.data).toMatchObject({ channel: 'web', identity: 'token:bob' });
  });
});
