import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';
import { connect, jsonOf, sha, textOf, type ToolResult } from '../helpers/mcp-client.js';

/**
 * A real MCP client (the official SDK's) against /mcp on a running daemon (the demo on the simulated
 * cloud): discovery, each tool's happy path and bounds, identity, rate limits, audit, and that nothing
 * reachable through MCP moves an incident.
 */
const READER = 'reader-token-for-tests-0123456789';
const FLOOD = 'flood-token-for-tests-0123456789';
const TOOLS = ['explain_correlation', 'get_evidence', 'get_incident', 'list_incidents', 'query_logs', 'query_metrics', 'verify_audit'];

describe('MCP over HTTP on the daemon', () => {
  let demo: DemoDaemon;
  let url: string;
  let inc: Incident;
  let client: Client;

  beforeAll(async () => {
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false };
      doc.mcp = { readers: { assistant: { tokenSha256: sha(READER) }, flood: { tokenSha256: sha(FLOOD) } }, ratePerMinute: 30, maxRange: '6h' };
    });
    url = demo.daemon.url;
    inc = await demo.until('a proposal', (all) => all.find((i) => i.state === 'awaiting_approval'));
    client = await connect(url, READER);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await demo?.close();
  });

  it('lists exactly the read-only tools, each annotated readOnlyHint and not destructive', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const t of tools) {
      expect(t.annotations?.readOnlyHint, t.name).toBe(true);
      expect(t.annotations?.destructiveHint, t.name).toBe(false);
    }
    expect(tools.map((t) => t.name).some((n) => /approve|reject|silence|execute|run|decide/.test(n))).toBe(false);
  });

  it('answers list_incidents, get_incident (approval URL as data), get_evidence and explain_correlation', async () => {
    const list = jsonOf(await client.callTool({ name: 'list_incidents', arguments: {} }));
    expect(list.incidents.map((i: { id: string }) => i.id)).toContain(inc.id);
    const detail = jsonOf(await client.callTool({ name: 'get_incident', arguments: { id: inc.id } }));
    expect(detail.state).toBe('awaiting_approval');
    expect(detail.approval.approvalUrl).toBe(`${url}/incidents/${inc.id}`);
    expect(detail.runbook.hash).toBe(inc.runbook!.hash);
    const ev = jsonOf(await client.callTool({ name: 'get_evidence', arguments: { id: inc.id } }));
    expect(ev.signals.length).toBeGreaterThan(0);
    const corr = jsonOf(await client.callTool({ name: 'explain_correlation', arguments: { id: inc.id } }));
    expect(corr.suspect.executionId).toBe(inc.correlation!.suspect!.deployment.id);
    expect(corr.suspect.reasons.length).toBeGreaterThan(0);
    const missing = await client.callTool({ name: 'get_incident', arguments: { id: 'inc-nope' } });
    expect((missing as ToolResult).isError).toBe(true);
    expect(textOf(missing)).toMatch(/no incident inc-nope/);
  });

  it('bounds query_metrics and query_logs by the policy: metric, service, range', async () => {
    const metricId = inc.signals[0]!.metricId;
    const ok = jsonOf(await client.callTool({ name: 'query_metrics', arguments: { metricId, from: '1h' } }));
    expect(ok.points.length).toBeGreaterThan(0);
    const outside = await client.callTool({ name: 'query_metrics', arguments: { metricId: 'notWatched', from: '1h' } });
    expect((outside as ToolResult).isError).toBe(true);
    expect(textOf(outside)).toMatch(/not watched by the policy; known: .*\b/);
    const tooLong = await client.callTool({ name: 'query_metrics', arguments: { metricId, from: '2d' } });
    expect((tooLong as ToolResult).isError).toBe(true);
    expect(textOf(tooLong)).toMatch(/at most 6h \(mcp.maxRange\)/);
    const logs = jsonOf(await client.callTool({ name: 'query_logs', arguments: { service: inc.service, from: '30m', limit: 5 } }));
    expect(logs.records.length).toBeLessThanOrEqual(5);
    const badSvc = await client.callTool({ name: 'query_logs', arguments: { service: 'payroll' } });
    expect(textOf(badSvc)).toMatch(/no service "payroll"/);
    const overLimit = await client.callTool({ name: 'query_logs', arguments: { service: inc.service, limit: 5000 } });
    expect(textOf(overLimit)).toMatch(/mcp.maxLogRecords/);
  });

  it('serves resources: incidents, an incident, its timeline and audit segment with hashes, runbooks, deployments', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`cloudops://incidents/${encodeURIComponent(inc.id)}`);
    const one = await client.readResource({ uri: `cloudops://incidents/${inc.id}` });
    expect(JSON.parse((one.contents[0] as { text: string }).text).id).toBe(inc.id);
    const audit = JSON.parse(((await client.readResource({ uri: `cloudops://audit/${inc.id}` })).contents[0] as { text: string }).text);
    expect(audit.records[0].hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const tl = JSON.parse(((await client.readResource({ uri: `cloudops://incidents/${inc.id}/timeline` })).contents[0] as { text: string }).text);
    expect(tl.events.map((e: { kind: string }) => e.kind)).toContain('incident.opened');
    const rb = JSON.parse(((await client.readResource({ uri: 'cloudops://runbooks' })).contents[0] as { text: string }).text);
    expect(rb.runbooks.length).toBeGreaterThan(0);
    expect(resources.map((r) => r.uri)).toContain(`cloudops://deployments/${inc.service}`);
    const deps = JSON.parse(((await client.readResource({ uri: `cloudops://deployments/${inc.service}` })).contents[0] as { text: string }).text);
    expect(deps.service).toBe(inc.service);
    expect(deps.deployments.map((d: { id: string }) => d.id)).toContain(inc.correlation!.suspect!.deployment.id);
    await expect(client.readResource({ uri: 'cloudops://deployments/payroll' })).rejects.toThrow(/payroll/);
  });

  it('verify_audit reports the chain intact', async () => {
    const v = jsonOf(await client.callTool({ name: 'verify_audit', arguments: {} }));
    expect(v.ok).toBe(true);
  });

  it('refuses a request without a token or with an unknown one (401), and accepts an approver token as a reader', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(`${url}/mcp`, { method: 'POST', headers, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    const wrong = await fetch(`${url}/mcp`, { method: 'POST', headers: { ...headers, authorization: 'Bearer not-a-token' }, body });
    expect(wrong.status).toBe(401);
    await expect(connect(url, 'not-a-token')).rejects.toThrow();
    const alice = await connect(url, 'demo-token-alice');
    const r = await alice.callTool({ name: 'list_incidents', arguments: {} });
    expect((r as ToolResult).isError).toBeFalsy();
    await alice.close();
    const audit = await demo.daemon.store.listAudit({ limit: 10_000 });
    const callers = new Set(audit.filter((a) => a.kind === 'mcp.call').map((a) => a.actor));
    expect(callers).toContain('reader:assistant');
    expect(callers).toContain('approver:alice');
  });

  it('speaks the 2026-07-28 revision too (a negotiating client)', async () => {
    const modern = await connect(url, READER, 'auto');
    const { tools } = await modern.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    await modern.close();
  });

  it('rate-limits each caller on its own and audits the refusal', async () => {
    const flood = await connect(url, FLOOD);
    const results: ToolResult[] = [];
    for (let k = 0; k < 32; k++) results.push((await flood.callTool({ name: 'verify_audit', arguments: {} })));
    expect(results.slice(0, 30).every((r) => !r.isError)).toBe(true);
    expect(results.at(-1)!.isError).toBe(true);
    expect(textOf(results.at(-1))).toMatch(/rate limit: at most 30 calls a minute/);
    await flood.close();
    // The reader's own budget is untouched by the flood.
    expect((await client.callTool({ name: 'verify_audit', arguments: {} })).isError).toBeFalsy();
    const refused = (await demo.daemon.store.listAudit({ limit: 10_000 })).filter((a) => a.kind === 'mcp.refused');
    expect(refused.every((a) => a.actor === 'reader:flood')).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
  });

  it('no tool name or argument reaches a decision: fuzzed calls leave the incident, decisions and steps as they were', async () => {
    const before = await demo.daemon.store.getIncident(inc.id);
    const names = ['approve', 'reject', 'execute', 'silence', 'run_runbook', 'decide', 'get_incident/../approve', 'list_incidents ', '', 'APPROVE', 'tools/call'];
    const args: unknown[] = [{ id: inc.id, verdict: 'approve' }, { id: inc.id, runbookHash: inc.runbook!.hash, as: 'alice' }, { id: `${inc.id}' OR 1=1` }, { __proto__: { admin: true } }, { id: 'x'.repeat(5000) }];
    let rejected = 0;
    for (const name of [...names, ...TOOLS]) {
      for (const a of args) {
        try {
          const r = (await client.callTool({ name, arguments: a as Record<string, unknown> })) as ToolResult;
          if (r.isError) rejected += 1;
        } catch {
          rejected += 1;
        }
      }
    }
    expect(rejected).toBeGreaterThan(names.length * args.length - 1);
    const after = await demo.daemon.store.getIncident(inc.id);
    expect(await demo.daemon.store.listDecisions(inc.id)).toEqual([]);
    expect(after!.steps).toEqual([]);
    expect(['awaiting_approval', 'expired']).toContain(after!.state);
    expect(after!.runbook!.hash).toBe(before!.runbook!.hash);
  }, 60_000);
});
