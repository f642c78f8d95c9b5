import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { PermanentError } from '../core/errors.js';
import { toSeconds, type EpochMs, type Seconds } from '../core/time.js';
import { dynamoCall } from './dynamo-client.js';

/**
 * The single table's layout. Every item has `pk` and `sk`; what lives where:
 *
 *   INC#<id>      META                     the incident's index fields and its document (inline or in parts)
 *   INC#<id>      DOC#<version>#<n>        part n of a large incident document (gzip, split)
 *   INC#<id>      DEC#<hash>#<approver>    one decision
 *   AUD#<chain>   <seq, 12 digits>         one audit record of a chain (one chain per incident, one global)
 *   AUDHEAD       <chain>                  the chain's head: signed checkpoint of its last record
 *   AUDCP         GLOBAL (+ parts)         the signed global checkpoint over every chain head
 *   STEPS         <at>#<chain>#<seq>       a started step, for the blast-radius count (expires by TTL)
 *   SIL           <id>                     a silence
 *   KV#<key>      KV                       a small named value
 *   LEASE#<name>  LEASE                    a lease: owner, token, expiry
 *
 * The `byState` index (gsi1pk = STATE#<state>, gsi1sk = <openedAt>#<id>) answers "the open incidents"
 * without reading ended ones. `ttl` (epoch seconds) lets DynamoDB delete old items by itself.
 */
export const BY_STATE_INDEX = 'byState';
export const TTL_ATTRIBUTE = 'ttl';

export type Item = Record<string, AttributeValue>;
export type Key = { pk: AttributeValue; sk: AttributeValue };

export const key = (pk: string, sk: string): Key => ({ pk: { S: pk }, sk: { S: sk } });
export const S = (v: string): AttributeValue => ({ S: v });
export const N = (v: number): AttributeValue => ({ N: String(v) });
export const B = (v: Uint8Array): AttributeValue => ({ B: v });
export const ttlAt = (t: EpochMs): AttributeValue => N(toSeconds(t) satisfies Seconds);

/** Fixed-width decimal so string order is number order (sort keys). */
export const pad = (n: number, width = 15): string => String(Math.max(0, Math.floor(n))).padStart(width, '0');

export function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new PermanentError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no string ${name}`);
  return v;
}

export function num(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new PermanentError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no number ${name}`);
  return Number(v);
}

export function bin(item: Item, name: string): Uint8Array {
  const v = item[name]?.B;
  if (v === undefined) throw new PermanentError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no binary ${name}`);
  return v;
}

/**
 * Creates the table (on-demand, with the state index and TTL) if it does not exist and waits until it is
 * ACTIVE. For tests and development; production tables come from infrastructure code with the same shape.
 */
export async function ensureTable(client: DynamoDBClient, table: string, opts: { readonly timeoutMs?: number } = {}): Promise<void> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const exists = await describe(client, table, signal);
  if (!exists) {
    try {
      await dynamoCall('dynamodb.CreateTable', signal, () =>
        client.send(
          new CreateTableCommand({
            TableName: table,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
              { AttributeName: 'gsi1pk', AttributeType: 'S' },
              { AttributeName: 'gsi1sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            GlobalSecondaryIndexes: [
              {
                IndexName: BY_STATE_INDEX,
                KeySchema: [
                  { AttributeName: 'gsi1pk', KeyType: 'HASH' },
                  { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }),
          { abortSignal: signal },
        ),
      );
    } catch (err) {
      // Another process created it between our describe and create.
      if (!/ResourceInUse/.test(String((err as Error).message))) throw err;
    }
  }
  while ((await describe(client, table, signal)) !== 'ACTIVE') {
    await new Promise((r) => setTimeout(r, 250));
    if (signal.aborted) throw new PermanentError(`dynamodb table ${table} did not become ACTIVE in time`);
  }
  const ttl = await dynamoCall('dynamodb.DescribeTimeToLive', signal, () => client.send(new DescribeTimeToLiveCommand({ TableName: table }), { abortSignal: signal }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await dynamoCall('dynamodb.UpdateTimeToLive', signal, () =>
      client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }), { abortSignal: signal }),
    );
  }
}

async function describe(client: DynamoDBClient, table: string, signal: AbortSignal): Promise<string | null> {
  try {
    const out = await dynamoCall('dynamodb.DescribeTable', signal, () => client.send(new DescribeTableCommand({ TableName: table }), { abortSignal: signal }));
    return out.Table?.TableStatus ?? null;
  } catch (err) {
    if (/not found|ResourceNotFound/i.test((err as Error).message)) return null;
    throw err;
  }
}
