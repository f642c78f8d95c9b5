import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { EpochMs } from '../../src/core/time.js';
import { mcpCaller } from '../../src/mcp/mcp-http.js';
import { MCP_TOOLS } from '../../src/mcp/mcp-server.js';
import { RateLimiter } from '../../src/mcp/rate-limit.js';
import { McpReadError, queryMetrics, resultText, type McpReadDeps } from '../../src/mcp/read-model.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import { readFileSync } from 'node:fs';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function policyWith(mcp: Record<string, unknown>) {
  const loaded = loadPolicyFile(resolve(ROOT, 'config', 'demo.yaml')).policy;
  const doc = { ...loaded, mcp: { ...loaded.mcp, ...mcp } } as typeof loaded;
  return compilePolicy(doc, resolve(ROOT, 'config', 'demo.yaml'));
}

function depsFor(mcp: Record<string, unknown> = {}, points = 10): McpReadDeps {
  const clock = new ManualClock(Date.parse('2026-11-02T09:00:00Z'));
  return {
    store: new SqliteStore(':memory:', { auditKey: null }),
    policy: policyWith(mcp),
    clock,
    metrics: { fetch: async (qs) => qs.map((q) => ({ id: q.id, points: Array.from({ length: points }, (_x, k) => ({ t: (clock.now() - k * 60_000) as EpochMs, v: k })).reverse() })) },
    logs: { fetch: async () => [] },
    deployments: { list: async () => [] },
    templates: [],
    publicUrl: () => 'http://x',
  };
}

describe('MCP read bounds', () => {
  it('refuses a result above mcp.maxResultBytes with a request to narrow the query', async () => {
    const deps = depsFor({ maxResultBytes: 2048 }, 1000);
    const metricId = deps.policy.metrics[0]!.id;
    const value = await queryMetrics(deps, { metricId, from: '6h' }, AbortSignal.timeout(1000));
    expect(() => resultText(deps, value)).toThrow(McpReadError);
    expect(() => resultText(deps, value)).toThrow(/above mcp.maxResultBytes \(2048\); narrow the query/);
    expect(resultText(deps, { small: true })).toContain('small');
  });

  it('refuses an empty range, a range over mcp.maxRange and a time that is neither ISO nor a duration', async () => {
    const deps = depsFor({ maxRange: '2h' });
    const metricId = deps.policy.metrics[0]!.id;
    const sig = AbortSignal.timeout(1000);
    await expect(queryMetrics(deps, { metricId, from: '3h' }, sig)).rejects.toThrow(/at most 2h \(mcp.maxRange\)/);
    await expect(queryMetrics(deps, { metricId, from: '2026-11-02T10:00:00Z', to: '2026-11-02T09:30:00Z' }, sig)).rejects.toThrow(/the range is empty/);
    await expect(queryMetrics(deps, { metricId, from: 'yesterday-ish' }, sig)).rejects.toThrow(/neither an ISO-8601 time nor a duration/);
    const ok = (await queryMetrics(deps, { metricId, from: '2026-11-02T08:00:00Z', to: '2026-11-02T09:00:00Z' }, sig)) as { points: unknown[] };
    expect(ok.points.length).toBe(10);
  });

  it('redacts secrets in results', () => {
    const deps = depsFor();
    expect(resultText(deps, { line: 'login ok password=hunter2 key AKIAABCDEFGHIJKLMNOP' })).not.toMatch(/hunter2|AKIAABCDEFGHIJKLMNOP/);
  });
});

describe('MCP identity', () => {
  it('names readers and, unless mcp.approverTokens is false, approvers; nobody else', () => {
    const p = policyWith({ readers: { bot: { tokenSha256: sha('bot-token-123456') } } });
    expect(mcpCaller(p, 'bot-token-123456')).toBe('reader:bot');
    expect(mcpCaller(p, 'demo-token-alice')).toBe('approver:alice');
    expect(mcpCaller(p, 'demo-token-mallory')).toBeNull();
    expect(mcpCaller(p, null)).toBeNull();
    const strict = policyWith({ approverTokens: false });
    expect(mcpCaller(strict, 'demo-token-alice')).toBeNull();
  });

  it('rejects a reader given a raw token instead of its sha256, and an unknown mcp key, as policy errors', () => {
    const base = readFileSync(resolve(ROOT, 'config', 'demo.yaml'), 'utf8');
    expect(() => parsePolicy(`${base}\nmcp:\n  readers:\n    bot: { tokenSha256: bot-token }\n`)).toThrow(/mcp\.readers\.bot\.tokenSha256.*sha256/s);
    expect(() => parsePolicy(`${base}\nmcp:\n  approve: true\n`)).toThrow(/approve/);
    expect(parsePolicy(base).mcp).toMatchObject({ http: true, approverTokens: true, ratePerMinute: 60, maxRange: '24h' });
  });
});

describe('the MCP tool surface', () => {
  it('is exactly the read tools: no name that decides, silences or executes', () => {
    expect(MCP_TOOLS.map((t) => t.name).sort()).toEqual(['explain_correlation', 'get_evidence', 'get_incident', 'list_incidents', 'query_logs', 'query_metrics', 'verify_audit']);
  });
});

describe('RateLimiter', () => {
  it('allows perMinute calls at once, then refills continuously, per caller', () => {
    const r = new RateLimiter(3);
    expect([r.take('a', 0), r.take('a', 0), r.take('a', 0)]).toEqual([0, 0, 0]);
    expect(r.take('a', 0)).toBe(20_000);
    expect(r.take('b', 0)).toBe(0);
    expect(r.take('a', 20_000)).toBe(0);
    expect(r.take('a', 20_000)).toBeGreaterThan(0);
  });

  it('keeps at most maxCallers buckets', () => {
    const r = new RateLimiter(1, 2);
    r.take('a', 0);
    r.take('b', 0);
    r.take('c', 0);
    // 'a' was evicted: it starts with a full bucket again rather than growing the map.
    expect(r.take('a', 0)).toBe(0);
  });
});
