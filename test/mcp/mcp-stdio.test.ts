import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';

/**
 * `cloudops mcp --policy FILE` over stdio, started as a real process by the official SDK client, reading
 * the store a running daemon writes (the same data folder).
 */
const ROOT = resolve(import.meta.dirname, '..', '..');

describe('cloudops mcp over stdio', () => {
  let demo: DemoDaemon;
  let inc: Incident;
  let client: Client;

  beforeAll(async () => {
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false };
    });
    inc = await demo.until('a proposal', (all) => all.find((i) => i.state === 'awaiting_approval'));
    const dataDir = demo.dataDir;
    client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [resolve(ROOT, 'bin', 'cloudops.js'), 'mcp', '--policy', resolve(dataDir, 'policy.yaml'), '--data-dir', dataDir], cwd: ROOT, stderr: 'pipe' }),
    );
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await demo?.close();
  });

  it('lists the read-only tools and reads the incident the daemon opened, audited as the local user', async () => {
    const { tools } = await client.listTools();
    expect(tools.length).toBe(7);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const r = await client.callTool({ name: 'get_incident', arguments: { id: inc.id } });
    const detail = JSON.parse((r as { content: { text: string }[] }).content[0]!.text);
    expect(detail.id).toBe(inc.id);
    expect(detail.approval.approvalUrl).toMatch(new RegExp(`/incidents/${inc.id}$`));
    const audit = await demo.daemon.store.listAudit({ incidentId: inc.id, limit: 10_000 });
    const user = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_');
    expect(audit.some((a) => a.kind === 'mcp.call' && a.actor === `stdio:${user}`)).toBe(true);
  }, 30_000);
});

