import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { MINUTE } from '../../src/core/time.js';
import { rollingZScore } from '../../src/detect/rolling-zscore.js';
import { MuteError } from '../../src/mute/mutes.js';
import { addSilence, buildSilence, expireSilence, listSilences } from '../../src/mute/silences.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { simHarness } from '../helpers/sim-harness.js';

const policy = compilePolicy(loadPolicyFile('config/demo.yaml').policy, 'config/demo.yaml');
const T = Date.parse('2026-11-02T08:00:00Z');
const req = { service: 'checkout', for: '2h', reason: 'payment provider maintenance', author: 'alice' };

describe('building a silence: bad input gets a clear error', () => {
  it('a good request starts now and ends after the duration', () => {
    const s = buildSilence(policy, { ...req, metric: 'checkout5xx' }, T);
    expect(s).toMatchObject({ matchers: { service: 'checkout', metric: 'checkout5xx' }, author: 'alice', reason: 'payment provider maintenance', startsAt: T, endsAt: T + 120 * MINUTE, createdAt: T });
    expect(s.id).toMatch(/^sil-[0-9a-f]{10}$/);
    expect(buildSilence(policy, { ...req, metric: 'HTTPCode_Target_5XX_Count' }, T).matchers['metric']).toBe('HTTPCode_Target_5XX_Count');
  });

  it.each([
    [{ service: 'shop' }, /^unknown service "shop" \(the policy has checkout, payments\)$/],
    [{ metric: 'paymentsCpu' }, /^service checkout has no metric "paymentsCpu" \(its metrics: checkout5xx \(HTTPCode_Target_5XX_Count\), /],
    [{ for: 'two hours' }, /^invalid duration "two hours" \(expected e\.g\. 30m, 2h, 1d\)$/],
    [{ for: '30s' }, /^a silence lasts at least 1m, not 30s$/],
    [{ for: '15d' }, /^a silence lasts at most 14d, not 15d; put longer planned work in the policy's maintenance windows$/],
    [{ reason: '   ' }, /^a silence needs a reason$/],
    [{ reason: 'x'.repeat(501) }, /^the reason is over 500 characters$/],
    [{ author: '' }, /^a silence needs an author$/],
  ])('%j is refused', (bad, message) => {
    expect(() => buildSilence(policy, { ...req, ...bad }, T)).toThrow(MuteError);
    expect(() => buildSilence(policy, { ...req, ...bad }, T)).toThrow(message);
  });
});

describe('silences in the store', () => {
  it('add, list (active flag), expire with audit records; expiring twice or an unknown id is an error', async () => {
    const store = new SqliteStore(':memory:');
    const s = await addSilence(store, policy, req, T);
    await expect(addSilence(store, policy, req, T)).rejects.toThrow(`silence ${s.id} already exists`);
    expect((await listSilences(store, T + MINUTE)).map((x) => [x.id, x.active])).toEqual([[s.id, true]]);
    const ended = await expireSilence(store, s.id, 'bob', T + 10 * MINUTE);
    expect(ended.endsAt).toBe(T + 10 * MINUTE);
    expect((await listSilences(store, T + 11 * MINUTE))[0]?.active).toBe(false);
    await expect(expireSilence(store, s.id, 'bob', T + 11 * MINUTE)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/already ended/) });
    await expect(expireSilence(store, 'sil-nope', 'bob', T)).rejects.toMatchObject({ status: 404, message: 'no silence sil-nope' });
    const audit = await store.listAudit({ limit: 10 });
    expect(audit.map((a) => [a.kind, a.actor])).toEqual(expect.arrayContaining([['silence.added', 'alice'], ['silence.expired', 'bob']]));
    await store.close();
  });
});

describe('silences over HTTP and in the pipeline', () => {
  let server: Server | null = null;
  afterEach(() => {
    server?.close();
    server = null;
  });

  async function world(edit?: Parameters<typeof simHarness>[1], scenario?: string) {
    const h = simHarness('config/demo.yaml', (p) => {
      const q = { ...p, ...(scenario ? { scenarioFile: scenario } : {}), ttlMs: 120 * MINUTE, reminderMs: [] };
      return edit ? edit(q) : q;
    });
    const watcher = new Watcher({ ...h.deps, detectorFor: (m) => rollingZScore({ window: 60, threshold: 4.5, direction: m.detector.direction, warmup: 30 }) });
    server = createHttpServer({ store: h.store, policy: h.policy, clock: h.clock, watcher, logger: h.deps.logger, registry: new Registry(), ready: () => ({ ok: true, why: 'test' }), approveCommand: () => '' });
    const url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    const call = async (method: string, path: string, body?: unknown, token: string | null = 'demo-token-alice') => {
      const res = await fetch(url + path, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
       
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const cycles = async (n: number) => {
      for (let i = 0; i < n; i++) {
        h.clock.advance(MINUTE);
        await watcher.runCycle();
        expect(watcher.lastError).toBeNull();
      }
    };
    return { h, watcher, call, cycles };
  }

  it('POST needs an approver token and good input; GET lists; DELETE ends it', async () => {
    const { call } = await world();
    const body = { service: 'checkout', for: '2h', reason: 'provider maintenance' };
    expect(await call('POST', '/api/silences', body, null)).toMatchObject({ status: 401, body: { error: 'unknown or missing approver token (Authorization: Bearer …)' } });
    expect(await call('POST', '/api/silences', body, 'demo-token-mallory')).toMatchObject({ status: 401 });
    expect(await call('POST', '/api/silences', { ...body, as: 'bob' })).toMatchObject({ status: 403, body: { error: 'this token belongs to alice, not bob' } });
    expect(await call('POST', '/api/silences', { ...body, service: 'shop' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^unknown service "shop"/) } });
    expect(await call('POST', '/api/silences', { ...body, for: 5 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^for: /) } });
    expect(await call('POST', '/api/silences', { ...body, extra: 1 })).toMatchObject({ status: 400 });
    const created = await call('POST', '/api/silences', body);
    expect(created.status).toBe(201);
    expect(created.body['silence']).toMatchObject({ matchers: { service: 'checkout' }, author: 'alice', reason: 'provider maintenance' });
    const id = created.body['silence'].id as string;
    const listed = await call('GET', '/api/silences', undefined, null);
    expect(listed.status).toBe(200);
    expect(listed.body['silences'].map((s: { id: string; active: boolean }) => [s.id, s.active])).toEqual([[id, true]]);
    expect(await call('DELETE', `/api/silences/${id}`, undefined, null)).toMatchObject({ status: 401 });
    expect(await call('DELETE', '/api/silences/sil-nope')).toMatchObject({ status: 404, body: { error: 'no silence sil-nope' } });
    expect(await call('DELETE', `/api/silences/${id}`, undefined, 'demo-token-bob')).toMatchObject({ status: 200 });
    expect(await call('DELETE', `/api/silences/${id}`)).toMatchObject({ status: 409 });
    expect((await call('GET', '/api/silences?active=true')).body['silences']).toEqual([]);
  });

  it('a silenced anomaly is recorded with the silence that muted it, proposes and notifies nothing; after the silence ends it is proposed', async () => {
    const { h, call, cycles } = await world();
    const sil = (await call('POST', '/api/silences', { service: 'checkout', for: '20m', reason: 'payments provider failover drill' })).body['silence'];
    await cycles(12);
    const [inc] = await h.store.listIncidents({ service: 'checkout' });
    expect(inc?.state).toBe('detected');
    expect(inc?.runbook).toBeNull();
    expect(inc?.mutes).toEqual([expect.objectContaining({ id: sil.id, kind: 'silence', by: 'alice', reason: 'payments provider failover drill', until: sil.endsAt })]);
    expect(inc?.mutes[0]?.metrics).toContain('checkout5xx');
    expect(h.notifier.sent).toEqual([]);
    expect((await call('GET', '/api/incidents', undefined, null)).body['incidents'][0]).toMatchObject({ id: inc?.id, state: 'detected', mutedBy: [sil.id] });
    const opened = (await h.store.listAudit({ incidentId: inc?.id ?? '' })).find((a) => a.kind === 'incident.opened');
    expect(opened?.data['mutedBy']).toEqual([expect.objectContaining({ id: sil.id, by: 'alice' })]);
    // The silence ends at 20m; the problem is still there, so the incident goes on as usual.
    await cycles(10);
    const after = await h.store.getIncident(inc?.id ?? '');
    expect(after?.state).toBe('awaiting_approval');
    expect(after?.correlation?.suspect?.deployment.id).toBe('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    // What approvers see: the suspect with reasons and the new log pattern, on the record and in the text.
    expect(after?.correlation?.suspect?.reasons).toContain('pipeline checkout-deploy deploys checkout');
    expect(after?.evidence?.templates[0]).toMatchObject({ isNew: true, template: 'ERROR PaymentClientV2 timeout after <NUM> calling payments order=<NUM>' });
    expect(after?.reason).toMatch(/^runbook ".*" awaits 1 approval\(s\) — suspect checkout-deploy 5a6b7c8d "Switch the payment client to the v2 API": pipeline checkout-deploy deploys checkout; .* — logs: new "ERROR PaymentClientV2 timeout after <NUM> calling payments order=<NUM>" \(0 → \d+\)$/);
    expect(h.notifier.sent.find((a) => a.kind === 'proposal')?.text).toBe(after?.reason);
    expect(h.notifier.sent.some((a) => a.incidentId === inc?.id)).toBe(true);
    expect((await h.store.listAudit({ incidentId: inc?.id ?? '' })).map((a) => a.kind)).toContain('incident.unmuted');
  });

  it('a silence of another metric does not mute the incident', async () => {
    const { h, call, cycles } = await world();
    await call('POST', '/api/silences', { service: 'checkout', metric: 'checkoutLatencyP99', for: '2h', reason: 'latency is known to be noisy' });
    await cycles(12);
    const [inc] = await h.store.listIncidents({ service: 'checkout' });
    expect(inc?.state).toBe('awaiting_approval');
  });

  it('an anomaly that clears during a maintenance window is withdrawn quietly: nothing proposed, nobody notified', async () => {
    const start = new Date(T).toISOString();
    const end = new Date(T + 60 * MINUTE).toISOString();
    const { h, cycles } = await world(
      (p) => ({ ...p, doc: { ...p.doc, maintenance: [{ name: 'edge-proxy-upgrade', services: ['checkout'], start, end, reason: 'upgrading the edge proxies' }] } }),
      'test/fixtures/scenarios/e2e/transient-errors-clear-by-themselves.yaml',
    );
    await cycles(30);
    const [inc] = await h.store.listIncidents({ service: 'checkout' });
    expect(inc?.state).toBe('withdrawn');
    expect(inc?.reason).toBe('the anomaly cleared while muted by maintenance window edge-proxy-upgrade (upgrading the edge proxies) — nothing proposed or notified');
    expect(inc?.mutes.map((m) => [m.kind, m.id, m.by])).toEqual([['maintenance', 'maintenance:edge-proxy-upgrade', 'policy']]);
    expect(inc?.runbook).toBeNull();
    expect(h.notifier.sent).toEqual([]);
    expect(h.sim.executeCalls()).toBe(0);
  });
});
