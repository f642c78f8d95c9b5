import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoToken } from '../../src/daemon.js';
import type { Incident } from '../../src/incident/incident.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';
import { cloudops } from '../helpers/cloudops-cli.js';

/** Issue 12 item 6 / approvals: a decision made with the real `cloudops approve|reject` command is recorded and audited as channel cli, with the identity. */


let w: FastWorld;
let watcher: Watcher;
let server: Server;
let url = '';
let approveMe: Incident;
let rejectMe: Incident;
let viaApi: Incident;

beforeAll(async () => {
  w = fastWorld(demoFiles());
  watcher = new Watcher(w.deps);
  await seedCheckoutIncident(w, 'checkout-20261102-0803');
  await seedCheckoutIncident(w, 'checkout-20261102-0804');
  await seedCheckoutIncident(w, 'checkout-20261102-0805');
  await watcher.runCycle();
  const got = async (id: string): Promise<Incident> => {
    const i = await w.store.getIncident(id);
    if (!i) throw new Error(`no incident ${id}`);
    return i;
  };
  approveMe = await got('checkout-20261102-0803');
  rejectMe = await got('checkout-20261102-0804');
  viaApi = await got('checkout-20261102-0805');
  for (const i of [approveMe, rejectMe, viaApi]) expect(i?.state, i?.reason).toBe('awaiting_approval');
  server = createHttpServer({ store: w.store, policy: w.files.policy, clock: w.clock, watcher, logger: w.deps.logger, registry: new Registry(), ready: () => ({ ok: true, why: 'test' }), approveCommand: () => '' });
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
}, 60_000);
afterAll(async () => {
  await watcher.drain();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const recorded = async (id: string) => (await w.store.listAudit({ incidentId: id })).filter((a) => a.kind === 'decision.recorded');

describe('cloudops approve / reject against the running daemon', () => {
  it('approve: the decision and its audit record say channel cli and the token identity; the record prints it', async () => {
    const r = await cloudops('approve', approveMe.id, '--as', 'alice', '--url', url);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^alice: approve recorded for ".*" \(approved\)/);
    const [decision] = await w.store.listDecisions(approveMe.id);
    expect(decision).toMatchObject({ approver: 'alice', verdict: 'approve', channel: 'cli', identity: 'token:alice', runbookHash: approveMe.runbook!.hash });
    const audit = await recorded(approveMe.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'alice', data: { verdict: 'approve', channel: 'cli', identity: 'token:alice', runbookHash: approveMe.runbook!.hash } });
    await watcher.queueIdle();
    const record = await cloudops('show', approveMe.id, '--record', '--url', url);
    expect(record.stdout).toContain(`alice approve ${approveMe.runbook!.hash} via cli as token:alice`);
  }, 180_000);

  it('reject: recorded and audited as channel cli with the identity and the reason', async () => {
    const r = await cloudops('reject', rejectMe.id, '--as', 'bob', '--reason', 'the release is a data migration', '--url', url);
    expect(r.code).toBe(0);
    const audit = await recorded(rejectMe.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'bob', data: { verdict: 'reject', channel: 'cli', identity: 'token:bob', reason: 'the release is a data migration' } });
    expect((await w.store.listDecisions(rejectMe.id))[0]).toMatchObject({ channel: 'cli', identity: 'token:bob' });
  }, 180_000);

  it('a plain JSON API call stays channel api, and a caller may not claim another channel', async () => {
    const post = (body: Record<string, unknown>): Promise<Response> =>
      fetch(`${url}/api/incidents/${viaApi.id}/reject`, { method: 'POST', headers: { authorization: `Bearer ${demoToken('carol')}`, 'content-type': 'application/json' }, body: JSON.stringify({ runbookHash: viaApi.runbook!.hash, reason: 'not now', ...body }) });
    const forged = await post({ via: 'slack' });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: string }).error).toMatch(/via: expected "api" or "cli"/);
    expect((await post({})).status).toBe(200);
    const carol = (await recorded(viaApi.id)).find((a) => a.actor === 'carol');
    expect(carol?.data).toMatchObject({ channel: 'api', identity: 'token:carol' });
  }, 60_000);
});
