import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';

/**
 * A second, independent MCP client: `@modelcontextprotocol/inspector-cli` (the inspector's command-line
 * mode, built on the 1.x SDK) against `/mcp` on a running daemon and against `cloudops mcp` over stdio.
 * It shows the server speaks MCP to a client we did not write, and that the bearer token is enforced
 * for it too.
 */
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const INSPECTOR = resolve(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector-cli/package.json')), 'build', 'index.js');
const READER = 'inspector-reader-token-0123456789';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function inspector(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // cwd is the inspector's build folder: 1.0.3 looks for its own package.json at "../package.json"
    // relative to the working directory (it assumes its monorepo layout otherwise). Every path we pass is absolute.
    const out = await run(process.execPath, [INSPECTOR, ...args], { cwd: dirname(INSPECTOR), timeout: 45_000 });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('MCP Inspector CLI against the daemon', () => {
  let demo: DemoDaemon;
  let inc: Incident;

  beforeAll(async () => {
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false };
      // At 600x the demo's 60-minute ttl is six wall seconds; a loaded CI machine must not let the
      // request expire (or be re-drafted on new evidence) between reading it and checking it again.
      doc.approval.ttl = '24h';
      doc.mcp = { readers: { inspector: { tokenSha256: sha(READER) } } };
    });
    inc = await demo.until('a proposal', (all) => all.find((i) => i.state === 'awaiting_approval'));
  }, 90_000);

  afterAll(async () => {
    await demo?.close();
  });

  it('lists exactly the seven read-only tools over streamable HTTP with a reader token', async () => {
    const r = await inspector([`${demo.daemon.url}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${READER}`, '--method', 'tools/list']);
    expect(r.code, r.stderr).toBe(0);
    const { tools } = JSON.parse(r.stdout) as { tools: { name: string; annotations?: { readOnlyHint?: boolean } }[] };
    expect(tools.map((t) => t.name).sort()).toEqual(['explain_correlation', 'get_evidence', 'get_incident', 'list_incidents', 'query_logs', 'query_metrics', 'verify_audit']);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
  }, 60_000);

  it('is refused without a token, and a tools/call with an approving-looking name reaches nothing', async () => {
    const bare = await inspector([`${demo.daemon.url}/mcp`, '--transport', 'http', '--method', 'tools/list']);
    expect(bare.code).not.toBe(0);
    const approve = await inspector([`${demo.daemon.url}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${READER}`, '--method', 'tools/call', '--tool-name', 'approve_runbook', '--tool-arg', `id=${inc.id}`]);
    expect(`${approve.stdout}${approve.stderr}`).toMatch(/not found|unknown tool/i);
    const after = await demo.daemon.store.getIncident(inc.id);
    expect(after?.state).toBe('awaiting_approval');
    // Same request, unless the daemon itself superseded it on new evidence (never on a decision).
    if (after?.approval?.runbookHash !== inc.approval?.runbookHash) expect(after?.requests?.some((r) => r.outcome === 'superseded' && r.runbookHash === inc.approval?.runbookHash)).toBe(true);
    expect((await demo.daemon.store.listDecisions(inc.id)).length).toBe(0);
  }, 60_000);

  it('reads the incident through `cloudops mcp` over stdio', async () => {
    const r = await inspector([
      process.execPath, resolve(ROOT, 'bin', 'cloudops.js'), 'mcp', '--policy', resolve(demo.dataDir, 'policy.yaml'), '--data-dir', demo.dataDir,
      '--method', 'tools/call', '--tool-name', 'get_incident', '--tool-arg', `id=${inc.id}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { content: { type: string; text: string }[] };
    expect(JSON.parse(result.content[0]!.text).id).toBe(inc.id);
  }, 60_000);
});
