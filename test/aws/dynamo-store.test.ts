import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainOf } from '../../src/store/dynamo-audit.js';
import { createDynamoClient } from '../../src/store/dynamo-client.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { key, S } from '../../src/store/dynamo-table.js';
import { ensureTable } from './dynamo-table-setup.js';
import { leaseContract, storeContract } from '../store/store-contract.js';
import { motoUrl, resetMoto, TEST_CREDENTIALS } from './helpers.js';

const KEY = Buffer.from('audit-key-for-contract-tests-0123456789');
let client: DynamoDBClient;
let n = 0;

beforeAll(async () => {
  await resetMoto();
  client = createDynamoClient({ region: 'us-east-1', endpoint: motoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 1 });
});
afterAll(() => client.destroy());

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
