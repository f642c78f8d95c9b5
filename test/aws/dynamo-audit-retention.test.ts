import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, type EpochMs } from '../../src/core/time.js';
import { signSummary } from '../../src/store/audit-chain.js';
import { chainOf, recordKey, summaryItem } from '../../src/store/dynamo-audit-items.js';
import { createDynamoClient } from '../../src/store/dynamo-client.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { key } from '../../src/store/dynamo-table.js';
import { StoreRejectedError } from '../../src/store/errors.js';
import { nextVersion, type AuditInput } from '../../src/store/store.js';
import { incidentFor } from '../store/store-contract.js';
import { ensureTable } from './dynamo-table-setup.js';
import { motoUrl, resetMoto, TEST_CREDENTIALS } from './helpers.js';
import { startSerialProxy, type SerialProxy } from './serial-proxy.js';

const KEY = Buffer.from('audit-key-for-retention-tests-0123456789');
const T = 1_800_000_000_000 as EpochMs;
const at = (n: number): EpochMs => (T + n) as EpochMs;
const entry = (incidentId: string | null, kind: string, n = 0): AuditInput => ({ at: at(n), incidentId, kind, actor: 'test', data: { n } });
let client: DynamoDBClient;
let proxy: SerialProxy;

beforeAll(async () => {
  await resetMoto();
  proxy = await startSerialProxy(motoUrl());
  client = createDynamoClient({ region: 'us-east-1', endpoint: proxy.url, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await proxy.close();
});

async function freshTable(): Promise<string> {
  const table = `cloudops-retention-${randomBytes(4).toString('hex')}`;
  await ensureTable(client, table);
  return table;
}

const get = async (table: string, k: ReturnType<typeof key>) => (await client.send(new GetItemCommand({ TableName: table, Key: k, ConsistentRead: true }))).Item;

/**
 * Day 0: incident `done` opens (3 records) and is resolved; incident `live` opens and stays open; four
 * records of no incident. Day 3: one more record of no incident (the global chain's head is recent).
 */
async function estate(table: string, auditKey: Buffer | null = KEY): Promise<DynamoStore> {
  const store = new DynamoStore({ table, client, auditKey, globalCheckpointEveryMs: 0, auditRetentionMs: DAY });
  const done = incidentFor('done', 'checkout', at(0));
  await store.createIncident(done, entry('done', 'incident.opened', 0));
  await store.appendAudit(entry('done', 'note', 1));
  await store.updateIncident({ ...nextVersion(done, at(2)), state: 'resolved' }, entry('done', 'incident.resolved', 2));
  await store.createIncident(incidentFor('live', 'payments', at(3)), entry('live', 'incident.opened', 3));
  for (let i = 0; i < 4; i++) await store.appendAudit(entry(null, 'note', 10 + i));
  await store.appendAudit(entry(null, 'note', 3 * DAY));
  return store;
}

describe('DynamoDB audit retention: old chains go under signed summaries and the trail still verifies (moto)', () => {
  it('removes an ended incident’s chain whole and the old records of no incident (never the head), keeps an open incident’s chain, and verifies', async () => {
    const table = await freshTable();
    const store = await estate(table);
    expect(await store.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 9 });
    const report = await store.maintain(at(3 * DAY));
    // done's 3 records, and the 4 records of no incident older than a day; live is open and the global head stays.
    expect(report.auditRemoved).toBe(7);
    expect(await store.listAudit({ incidentId: 'done' })).toEqual([]);
    expect(await get(table, key('AUDHEAD', chainOf('done')))).toBeUndefined();
    expect((await store.listAudit({ incidentId: 'live' })).map((r) => r.kind)).toEqual(['incident.opened']);
    expect((await store.listAudit({})).map((r) => [r.incidentId, r.seq])).toEqual([['live', 1], [null, 5]]);
    // The summaries: done's expires by TTL (the global checkpoint no longer lists the chain); the global one stays.
    const doneSummary = await get(table, key('AUDSUM', chainOf('done')));
    expect(doneSummary?.['seq']?.N).toBe('3');
    expect(Number(doneSummary?.['ttl']?.N)).toBe(Math.floor((T + 4 * DAY) / 1000));
    expect((await get(table, key('AUDSUM', 'global')))?.['ttl']).toBeUndefined();
    expect(await store.verifyAnchoredAudit()).toEqual({ ok: true, records: 2, anchor: 'signed' });
    // A second pass finds nothing more; the trail still verifies from a store built anew.
    expect((await store.maintain(at(3 * DAY + 1))).auditRemoved).toBe(0);
    const again = new DynamoStore({ table, client, auditKey: KEY });
    expect(await again.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 2 });
  });

  it('a record written to a removed chain later goes on from its summary, which then stays (no TTL)', async () => {
    const table = await freshTable();
    const store = await estate(table);
    await store.maintain(at(3 * DAY));
    await store.appendAudit(entry('done', 'decision.refused', 3 * DAY + 5));
    const trail = await store.listAudit({ incidentId: 'done' });
    expect(trail.map((r) => r.seq)).toEqual([4]);
    expect((await get(table, key('AUDSUM', chainOf('done'))))?.['ttl']).toBeUndefined();
    expect(await store.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 3 });
  });

  it('a removal cut off half way (summary written, some records deleted) verifies meanwhile and is finished by the next pass', async () => {
    const table = await freshTable();
    const store = await estate(table);
    const head = await store.listAudit({ incidentId: 'done' });
    const last = head[head.length - 1];
    await client.send(new PutItemCommand({ TableName: table, Item: summaryItem(signSummary(KEY, { chain: chainOf('done'), seq: 3, hash: last?.hash ?? '', at: at(3 * DAY) })) }));
    await client.send(new DeleteItemCommand({ TableName: table, Key: recordKey(chainOf('done'), 1) }));
    expect(await store.verifyAnchoredAudit()).toMatchObject({ ok: true });
    expect((await store.maintain(at(3 * DAY))).auditRemoved).toBe(6);
    expect(await get(table, key('AUDHEAD', chainOf('done')))).toBeUndefined();
    expect(await store.verifyAnchoredAudit()).toMatchObject({ ok: true, records: 2 });
  });

  it('a chain cut without the key’s summary is reported: a forged summary, and one moved to another chain', async () => {
    const table = await freshTable();
    const store = await estate(table);
    const chain = await store.listAudit({ incidentId: 'done' });
    const drop = async () => {
      for (const r of chain) await client.send(new DeleteItemCommand({ TableName: table, Key: recordKey(chainOf('done'), r.seq) }));
      await client.send(new DeleteItemCommand({ TableName: table, Key: key('AUDHEAD', chainOf('done')) }));
    };
    const forged = signSummary(Buffer.from('someone-elses-key-0123456789abcdefgh'), { chain: chainOf('done'), seq: 3, hash: chain[2]?.hash ?? '', at: at(5) });
    await client.send(new PutItemCommand({ TableName: table, Item: summaryItem(forged) }));
    await drop();
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/chain inc:done: the summary of removed records was signed with another key/) as unknown });
    // A genuine summary of the global chain, copied under done's name.
    const other = await freshTable();
    const store2 = await estate(other);
    await store2.maintain(at(3 * DAY));
    const globalSummary = await get(other, key('AUDSUM', 'global'));
    const live = await store2.listAudit({ incidentId: 'live' });
    expect(live).toHaveLength(1);
    await client.send(new PutItemCommand({ TableName: other, Item: { ...globalSummary, ...key('AUDSUM', chainOf('live')) } }));
    await client.send(new DeleteItemCommand({ TableName: other, Key: recordKey(chainOf('live'), 1) }));
    await client.send(new DeleteItemCommand({ TableName: other, Key: key('AUDHEAD', chainOf('live')) }));
    expect(await store2.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/chain inc:live: its summary of removed records was signed for global \(it was moved\)/) as unknown });
  });

  it('refuses to remove anything without the audit key, and removes nothing without a retention', async () => {
    const table = await freshTable();
    const store = await estate(table, null);
    await expect(store.maintain(at(3 * DAY))).rejects.toBeInstanceOf(StoreRejectedError);
    expect(await store.listAudit({})).toHaveLength(9);
    const keep = new DynamoStore({ table: await freshTable(), client, auditKey: KEY, globalCheckpointEveryMs: 0 });
    await keep.appendAudit(entry(null, 'note', 0));
    await keep.appendAudit(entry(null, 'note', 1));
    expect((await keep.maintain(at(400 * DAY))).auditRemoved).toBe(0);
    expect(await keep.listAudit({})).toHaveLength(2);
  });
});
