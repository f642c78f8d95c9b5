import { afterEach, describe, expect, it } from 'vitest';
import { followUpRequest } from '../../src/cli/follow-up-commands.js';
import { demoToken } from '../../src/daemon.js';
import { approvalServer, type ApprovalServer } from './approval-server.js';

let s: ApprovalServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const post = (url: string, token: string | null, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

describe('follow-ups through the JSON API and the CLI request (issue 15 item 14)', () => {
  it('reject, then re-propose as the CLI sends it: a new request with a new hash; the audit names who', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const rej = await post(`${s.url}/api/incidents/${inc.id}/reject`, demoToken('bob'), { runbookHash: inc.runbook?.hash, reason: 'not during the sale' });
    expect(rej.status).toBe(200);
    expect((await s.h.store.getIncident(inc.id))?.state).toBe('rejected');

    const { path, init } = followUpRequest(inc.id, 'repropose', { as: 'alice', note: 'the sale is over' }, demoToken('alice'));
    const res = await fetch(new URL(path, s.url), init);

    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; runbookHash: string; reason: string };
    expect(body.state).toBe('awaiting_approval');
    expect(body.runbookHash).not.toBe(inc.runbook?.hash);
    expect(body.reason).toMatch(/^re-proposed by alice as version 2: the sale is over/);
    const audit = (await s.h.store.listAudit({ incidentId: inc.id })).find((a) => a.data['followUp'] === 'repropose');
    expect(audit?.actor).toBe('alice');
    // Bob, who rejected version 1, may approve version 2.
    const ok = await post(`${s.url}/api/incidents/${inc.id}/approve`, demoToken('bob'), { runbookHash: body.runbookHash });
    expect(((await ok.json()) as { outcome: string }).outcome).toBe('approved');
  });

  it('refuses without a token, with a bad body, and on the wrong state — and changes nothing', async () => {
    s = await approvalServer();
    const inc = await s.awaiting();
    const url = `${s.url}/api/incidents/${inc.id}`;
    expect((await post(`${url}/close`, null, { note: 'x' })).status).toBe(401);
    const bad = await post(`${url}/close`, demoToken('alice'), { note: 'x', extra: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/Unrecognized key/);
    const wrong = await post(`${url}/close`, demoToken('alice'), { note: 'x' });
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as { error: string }).error).toBe('cannot close an incident that is awaiting_approval (only when rejected, expired, needs_human, withdrawn)');
    const other = await post(`${url}/assign`, demoToken('alice'), { as: 'bob', to: 'dave' });
    expect(other.status).toBe(403);
    expect((await s.h.store.getIncident(inc.id))?.version).toBe(inc.version);
  });
});
