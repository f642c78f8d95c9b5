import { resolve } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demo-daemon.js';
import { connect, jsonOf, sha, textOf } from '../helpers/mcp-client.js';

/**
 * Issue 16 item 5 on the routes every task serves: MCP on a daemon watching two accounts. Account "shop"
 * (quiet payments) is the first shard; the demo's bad checkout release happens in account "pay". What a
 * reader asks about checkout must come from pay's cloud and pay's incidents, not from the first shard's.
 */
const READER = 'reader-token-for-accounts-0123456789';

describe('MCP on a daemon with two accounts', () => {
  let demo: DemoDaemon;
  let inc: Incident;
  let client: Client;

  beforeAll(async () => {
    demo = await startDemoDaemon((doc) => {
      doc.notify = { console: false };
      doc.accounts = [
        { name: 'shop', id: '111111111111', regions: ['eu-west-1'], services: ['payments'], scenario: resolve(import.meta.dirname, '../shard/fixtures/quiet-payments.yaml') },
        { name: 'pay', id: '222222222222', regions: ['eu-west-1'], services: ['checkout'] },
      ];
      doc.mcp = { readers: { assistant: { tokenSha256: sha(READER) } }, ratePerMinute: 60, maxRange: '6h' };
    });
    inc = await demo.until('a proposal in account pay', (all) => all.find((i) => i.state === 'awaiting_approval' && i.service === 'checkout'), 45_000);
    client = await connect(demo.daemon.url, READER);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await demo?.close();
  });

  it('lists and reads the incident of the second account, naming its account', async () => {
    expect(inc.account).toBe('pay');
    const list = jsonOf(await client.callTool({ name: 'list_incidents', arguments: {} }));
    expect(list.incidents.map((i: { id: string }) => i.id)).toContain(inc.id);
    const got = await client.callTool({ name: 'get_incident', arguments: { id: inc.id } });
    expect(got.isError ?? false).toBe(false);
    expect(textOf(got)).toContain('pay');
  });

  it('queries a metric of the second account from that account\'s cloud', async () => {
    const r = await client.callTool({ name: 'query_metrics', arguments: { metricId: 'checkout5xx' } });
    expect(r.isError ?? false, textOf(r)).toBe(false);
    const body = jsonOf(r);
    expect(body.service).toBe('checkout');
    expect(body.points.length).toBeGreaterThan(0);
    // The demo's bad release: checkout's 5xx climbs well above its quiet level in pay's cloud.
    expect(Math.max(...body.points.map((p: [string, number]) => p[1]))).toBeGreaterThan(5);
  });

  it('explains the second account\'s correlation: its own release is the suspect', async () => {
    const r = await client.callTool({ name: 'explain_correlation', arguments: { id: inc.id } });
    expect(r.isError ?? false, textOf(r)).toBe(false);
    expect(jsonOf(r).suspect).not.toBeNull();
  });
});
