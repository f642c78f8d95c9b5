import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { dynamoCall } from '../../src/store/dynamo-client.js';
import { tableDefinition } from '../../src/store/dynamo-table.js';

/**
 * Creates the store's table (src/store/dynamo-table.ts `tableDefinition`) if it does not exist, waits until
 * it is ACTIVE and turns TTL on. For tests and development: it lives outside src/ so the daemon's IAM role
 * (iam-policy.json, derived from src/) never needs CreateTable.
 */
export async function ensureTable(client: DynamoDBClient, table: string, opts: { readonly timeoutMs?: number } = {}): Promise<void> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const { ttlAttribute, ...definition } = tableDefinition(table);
  if ((await status(client, table, signal)) === null) {
    try {
      await dynamoCall('dynamodb.CreateTable', signal, () => client.send(new CreateTableCommand(definition), { abortSignal: signal }));
    } catch (err) {
      // Another process created it between our describe and create.
      if (!/ResourceInUse|already exists/i.test((err as Error).message)) throw err;
    }
  }
  while ((await status(client, table, signal)) !== 'ACTIVE') {
    await new Promise((r) => setTimeout(r, 200));
    if (signal.aborted) throw new Error(`dynamodb table ${table} did not become ACTIVE in time`);
  }
  const ttl = await dynamoCall('dynamodb.DescribeTimeToLive', signal, () => client.send(new DescribeTimeToLiveCommand({ TableName: table }), { abortSignal: signal }));
  const now = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (now !== 'ENABLED' && now !== 'ENABLING') {
    await dynamoCall('dynamodb.UpdateTimeToLive', signal, () =>
      client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }), { abortSignal: signal }),
    );
  }
}

async function status(client: DynamoDBClient, table: string, signal: AbortSignal): Promise<string | null> {
  try {
    const out = await dynamoCall('dynamodb.DescribeTable', signal, () => client.send(new DescribeTableCommand({ TableName: table }), { abortSignal: signal }));
    return out.Table?.TableStatus ?? null;
  } catch (err) {
    if (/not found|ResourceNotFound/i.test((err as Error).message)) return null;
    throw err;
  }
}
