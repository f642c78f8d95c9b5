import { DeleteItemCommand, DescribeTimeToLiveCommand, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, type EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { chainOf } from '../../src/store/dynamo-audit.js';
import { createDynamoClient } from '../../src/store/dynamo-client.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { key, S } from '../../src/store/dynamo-table.js';
import { ensureTable } from './dynamo-table-setup.js';
import { nextVersion, type AuditInput } from '../../src/store/store.js';
import { incidentFor, leaseContract, storeContract } from '../store/store-contract.js';
import { portContract } from '../store/store-contract-port.js';
import { motoUrl, resetMoto, TEST_CREDENTIALS } from './helpers.js';
import { startSerialProxy, type SerialProxy } from './serial-proxy.js';

const KEY = Buffer.from('audit-key-for-contract-tests-0123456789');
let client: DynamoDBClient;
let n = 0;
// Every DynamoDB call goes through a proxy that hands moto one request at a time (see serial-proxy.ts).
let proxy: SerialProxy;
const dynamoUrl = (): string => proxy.url;

beforeAll(async () => {
  await resetMoto();
  proxy = await startSerialProxy(motoUrl());
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await proxy.close();
});

async function freshTable(): Promise<string> {
  const table = `cloudops-contract-${++n}-${randomBytes(3).toString('hex')}`;
  await ensureTable(client, table);
  return table;
}

const auditKeyOf = (incidentId: string, seq: number) => key(`AUD#${chainOf(incidentId)}`, String(seq).padStart(12, '0'));

storeContract('DynamoStore (moto)', async () => {
  const table = await freshTable();
  const store = new DynamoStore({ table, client, auditKey: KEY });
  return {
    store,
    tamper: {
      alterAuditData: async (incidentId, seq, data) => {
        await client.send(new UpdateItemCommand({ TableName: table, Key: auditKeyOf(incidentId, seq), UpdateExpression: 'SET #d = :d', ExpressionAttributeNames: { '#d': 'data' }, ExpressionAttributeValues: { ':d': S(JSON.stringify(data)) } }));
      },
      deleteAudit: async (incidentId, seq) => {
        await client.send(new DeleteItemCommand({ TableName: table, Key: auditKeyOf(incidentId, seq) }));
      },
      deleteAuditCheckpoint: async (incidentId) => {
        await client.send(new DeleteItemCommand({ TableName: table, Key: key('AUDHEAD', chainOf(incidentId)) }));
      },
    },
    close: () => store.close(),
  };
});

leaseContract('DynamoStore (moto)', async () => {
  const store = new DynamoStore({ table: await freshTable(), client, auditKey: KEY });
  return { leases: store, close: () => store.close() };
});

portContract('DynamoStore (moto)', async () => {
  const table = await freshTable();
  const store = new DynamoStore({ table, client, auditKey: KEY });
  return {
    store,
    // A second task: its own client and store on the same table.
    second: async () => new DynamoStore({ table, aws: { region: 'us-east-1', endpoint: dynamoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 3 }, auditKey: KEY }),
    // Nothing listens on port 9: connection refused on every call.
    unavailable: async () => new DynamoStore({ table, aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: TEST_CREDENTIALS, maxAttempts: 1 }, auditKey: KEY }),
    close: () => store.close(),
  };
});

const T = 1_800_000_000_000 as EpochMs;
const at = (n: number): EpochMs => (T + n) as EpochMs;
const entry = (incidentId: string | null, kind: string, n = 0): AuditInput => ({ at: at(n), incidentId, kind, actor: 'test', data: { n } });

/** DynamoDB's item size: attribute names plus values (UTF-8 strings, binary, numbers as text). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name) + (v.S !== undefined ? Buffer.byteLength(v.S) : v.B !== undefined ? v.B.length : v.N !== undefined ? v.N.length : 1);
  return n;
}

async function scanAll(table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Evidence that does not compress: random text in log samples, as an incident with many odd log lines has. */
function withEvidence(inc: Incident, bytes: number): Incident {
  const samples = Array.from({ length: Math.ceil(bytes / 10_000) }, () => randomBytes(7_500).toString('base64'));
  return {
    ...inc,
    evidence: {
      groups: ['/ecs/checkout'],
      baseline: { start: T, end: T, lines: 1 },
      onset: { start: T, end: T, lines: samples.length },
      templates: [{ template: 'error <*>', baselineCount: 0, onsetCount: samples.length, isNew: true, samples }],
    },
    chart: { metricId: 'm', metricName: 'M', points: Array.from({ length: 5_000 }, (_, i) => ({ t: at(i * 60_000), v: Math.random() })), deployments: [] },
  };
}

describe('DynamoStore on moto, beyond the contract', () => {
  it('an incident that grows past 400 KB of content is split across items, each under the limit, and reads back whole', async () => {
    const table = await freshTable();
    const store = new DynamoStore({ table, client, auditKey: KEY });
    let inc = incidentFor('big');
    await store.createIncident(inc, entry('big', 'incident.opened'));
    for (const [i, bytes] of [1_500_000, 2_400_000, 20_000].entries()) {
      inc = withEvidence({ ...nextVersion(inc, at(i + 1)) }, bytes);
      await store.updateIncident(inc, entry('big', 'incident.transition', i + 1));
      expect(await store.getIncident('big')).toEqual(inc);
      expect(await store.listIncidents({ states: ['detected'] })).toEqual([inc]);
      const items = await scanAll(table);
      expect(Math.max(...items.map(itemBytes))).toBeLessThan(400_000);
      const parts = items.filter((it) => it['pk']?.S === 'INC#big' && it['sk']?.S?.startsWith('DOC#'));
      if (bytes > 400_000) expect(parts.length).toBeGreaterThan(1);
      else expect(parts).toEqual([]); // shrunk back inline: the old parts went in the same transaction
    }
    expect(JSON.stringify(await store.getIncident('big')).length).toBeGreaterThan(20_000);
    // Too large for one transaction: refused with a clear error, nothing lost.
    const tooBig = withEvidence(nextVersion(inc, at(9)), 4_500_000);
    await expect(store.updateIncident(tooBig, entry('big', 'incident.transition', 9))).rejects.toMatchObject({ name: 'StoreRejectedError', kind: 'rejected', message: expect.stringMatching(/incident big is .* MB compressed; the DynamoDB store keeps at most/) as unknown });
    expect(await store.getIncident('big')).toEqual(inc);
    expect(await store.listAudit({ incidentId: 'big' })).toHaveLength(4);
    expect(await store.verifyAudit()).toEqual({ ok: true, records: 4 });
  });

  it('the signed global checkpoint catches a chain deleted whole and a chain head put back to an older signed copy', async () => {
    const table = await freshTable();
    const store = new DynamoStore({ table, client, auditKey: KEY, globalCheckpointEveryMs: 0 });
    for (let i = 0; i < 3; i++) await store.appendAudit(entry('a', `k${i}`, i));
    const oldHead = (await client.send(new GetItemCommand({ TableName: table, Key: key('AUDHEAD', chainOf('a')) }))).Item;
    for (let i = 3; i < 5; i++) await store.appendAudit(entry('a', `k${i}`, i));
    await store.appendAudit(entry('b', 'k', 9));
    expect(await store.verifyAnchoredAudit()).toEqual({ ok: true, records: 6, anchor: 'signed' });

    // Chain b removed, records and head: each remaining chain is intact; only the global list shows it.
    await client.send(new DeleteItemCommand({ TableName: table, Key: auditKeyOf('b', 1) }));
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('AUDHEAD', chainOf('b')) }));
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/chain inc:b was removed: the global checkpoint .* lists it with 1 record/) as unknown });

    // Chain a cut back to 3 with its older (validly signed) head restored.
    await store.appendAudit(entry('b', 'k', 9)); // b again, so only a's rollback is wrong
    for (const seq of [4, 5]) await client.send(new DeleteItemCommand({ TableName: table, Key: auditKeyOf('a', seq) }));
    await client.send(new PutItemCommand({ TableName: table, Item: oldHead ?? {} }));
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/chain inc:a: truncated: it ends at record 3 but the global checkpoint .* covers 5/) as unknown });

    // The global checkpoint itself: deleted, or checked with another key.
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('AUDCP', 'GLOBAL') }));
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/no global checkpoint lists the chains/) as unknown });
  });

  it('a global checkpoint signed with another key is refused; one under no key is unsigned', async () => {
    const table = await freshTable();
    const store = new DynamoStore({ table, client, auditKey: KEY, globalCheckpointEveryMs: 0 });
    await store.appendAudit(entry('a', 'k'));
    const other = new DynamoStore({ table, client, auditKey: Buffer.from('another-audit-key-0123456789abcdef!!'), globalCheckpointEveryMs: 0 });
    await other.checkpointAudit(at(10));
    expect(await store.verifyAudit()).toMatchObject({ ok: false, problem: expect.stringMatching(/global checkpoint: the checkpoint was signed with another key/) as unknown });
    const plain = new DynamoStore({ table: await freshTable(), client, auditKey: null });
    await plain.appendAudit(entry(null, 'k'));
    expect(await plain.verifyAnchoredAudit()).toEqual({ ok: true, records: 1, anchor: 'unsigned' });
  });

  it('a task whose chain head moved under it (another task appended first) links to the newer record instead', async () => {
    const table = await freshTable();
    const clientA = createDynamoClient({ region: 'us-east-1', endpoint: dynamoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const a = new DynamoStore({ table, client: clientA, auditKey: KEY });
    const b = new DynamoStore({ table, client, auditKey: KEY });
    const inc = incidentFor('shared');
    await a.createIncident(inc, entry('shared', 'incident.opened'));
    // Task B writes to the chain between task A's read of the head and A's transaction (a deterministic
    // interleaving: moto's server does not serialise truly simultaneous transactions as DynamoDB does).
    let interleave: (() => Promise<unknown>) | null = null;
    clientA.middlewareStack.add(
      (next, context) => async (args) => {
        const go = interleave;
        if (context.commandName === 'TransactWriteItemsCommand' && go) {
          interleave = null;
          await go();
        }
        return next(args);
      },
      { step: 'initialize', name: 'interleaveTaskB' },
    );
    interleave = () => b.appendAudit(entry('shared', 'from-b', 1));
    await a.appendAudit(entry('shared', 'from-a', 2));
    interleave = () => b.addDecision({ incidentId: 'shared', approver: 'bob', verdict: 'approve', runbookHash: 'sha256:x', at: at(3), channel: 'web', identity: 'token:bob' }, entry('shared', 'decision.recorded', 3));
    await a.updateIncident({ ...nextVersion(inc, at(4)), state: 'drafting' }, entry('shared', 'incident.transition', 4));
    const trail = await a.listAudit({ incidentId: 'shared' });
    expect(trail.map((r) => [r.seq, r.kind])).toEqual([[1, 'incident.opened'], [2, 'from-b'], [3, 'from-a'], [4, 'decision.recorded'], [5, 'incident.transition']]);
    expect((await a.getIncident('shared'))?.state).toBe('drafting');
    expect(await b.verifyAudit()).toEqual({ ok: true, records: 5 });
    clientA.destroy();
  });

  it('two tasks writing to different chains at once: nothing lost, every chain verifies', async () => {
    const table = await freshTable();
    const clientA = createDynamoClient({ region: 'us-east-1', endpoint: dynamoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 6, retryMode: 'standard' });
    const clientB = createDynamoClient({ region: 'us-east-1', endpoint: dynamoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 6, retryMode: 'standard' });
    const a = new DynamoStore({ table, client: clientA, auditKey: KEY });
    const b = new DynamoStore({ table, client: clientB, auditKey: KEY });
    await Promise.all(Array.from({ length: 8 }, (_, i) => [a.appendAudit(entry(`own-a-${i}`, 'k', i)), b.appendAudit(entry(`own-b-${i}`, 'k', i))]).flat());
    await a.checkpointAudit(at(100));
    expect(await b.verifyAudit()).toEqual({ ok: true, records: 16 });
    expect((await b.listAudit()).map((r) => r.incidentId).sort()).toEqual(Array.from({ length: 8 }, (_, i) => [`own-a-${i}`, `own-b-${i}`]).flat().sort());
    clientA.destroy();
    clientB.destroy();
  });

  it('TTL is on; started-step markers and ended incidents (with a retention) carry their expiry in epoch seconds, open ones none', async () => {
    const table = await freshTable();
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    const store = new DynamoStore({ table, client, auditKey: KEY, endedIncidentRetentionMs: 30 * DAY });
    await store.appendAudit(entry('x', 'step.started', 5));
    const open = incidentFor('open');
    await store.createIncident(open, entry('open', 'incident.opened'));
    const ended = incidentFor('ended');
    await store.createIncident(ended, entry('ended', 'incident.opened'));
    await store.updateIncident({ ...nextVersion(ended, at(1000)), state: 'withdrawn' }, entry('ended', 'incident.transition', 1000));
    const items = await scanAll(table);
    const step = items.find((i) => i['pk']?.S === 'STEPS');
    expect(step?.['ttl']?.N).toBe(String(Math.floor((T + 5 + 7 * DAY) / 1000)));
    expect(items.find((i) => i['pk']?.S === 'INC#ended' && i['sk']?.S === 'META')?.['ttl']?.N).toBe(String(Math.floor((T + 1000 + 30 * DAY) / 1000)));
    expect(items.find((i) => i['pk']?.S === 'INC#open' && i['sk']?.S === 'META')?.['ttl']).toBeUndefined();
    expect(items.filter((i) => i['pk']?.S?.startsWith('AUD')).every((i) => i['ttl'] === undefined)).toBe(true);
  });

  it('cloudops audit verify checks the table a dynamodb policy names, exits 1 on a cut-off chain and 2 on a missing table', async () => {
    const table = await freshTable();
    const store = new DynamoStore({ table, client, auditKey: KEY });
    for (let i = 0; i < 3; i++) await store.appendAudit(entry('inc-1', `k${i}`, i));
    const dir = mkdtempSync(join(tmpdir(), 'dyn-cli-'));
    const policyFor = (t: string): string => {
      const file = join(dir, `${t}.yaml`);
      const text = readFileSync('config/demo.yaml', 'utf8').replace(/store:\n {2}kind: sqlite\n {2}path: .*\n/, `store:\n  kind: dynamodb\n  table: ${t}\n`);
      writeFileSync(file, text.replace('scenario: scenarios/demo.yaml', `scenario: ${resolve('config/scenarios/demo.yaml')}`).replace('dir: ../runbooks', `dir: ${resolve('runbooks')}`));
      return file;
    };
    // Straight to moto: spawnSync blocks this process, and with it the serial proxy that lives in it.
    const env = { ...process.env, AWS_ENDPOINT_URL: motoUrl(), AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', CLOUDOPS_AUDIT_KEY: KEY.toString('utf8') };
    const run = (file: string): { status: number; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify', '--policy', file], { encoding: 'utf8', env });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const ok = run(policyFor(table));
    expect(ok).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`audit chain intact: 3 records, head anchored by a signed checkpoint \\(dynamodb table ${table}, us-east-1\\)`)) as unknown });
    await client.send(new DeleteItemCommand({ TableName: table, Key: auditKeyOf('inc-1', 3) }));
    const cut = run(policyFor(table));
    expect(cut).toMatchObject({ status: 1, stderr: expect.stringMatching(/audit chain BROKEN at record 3: chain inc:inc-1: truncated/) as unknown });
    const missing = run(policyFor('cloudops-no-such-table'));
    expect(missing).toMatchObject({ status: 2, stderr: expect.stringMatching(/no audit store in dynamodb table cloudops-no-such-table/) as unknown });
  }, 180_000);
});
