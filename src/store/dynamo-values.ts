import { BatchGetItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient, type KeysAndAttributes, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { decodeSmall, encodeSmall } from './dynamo-blob.js';
import { ConditionFailed, dynamoCall } from './dynamo-client.js';
import { key, N, S, str, type Item } from './dynamo-table.js';
import { StoreThrottledError } from './errors.js';
import type { CasResult, VersionedValue } from './store.js';

/** TransactWriteItems carries at most 100 items and 4 MB: key-value writes are cut to fit. */
const TXN_ITEMS = 100;
const TXN_BYTES = 3_500_000;
const BATCH_GET = 100;
const UNPROCESSED_ATTEMPTS = 6;

/**
 * Small named values on DynamoDB, one item each (`KV#<key>`), with a version for compare-and-set; a
 * large value is stored gzipped. The DynamoStore wraps every call (signal, typed errors).
 */
export class DynamoValues {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    /** The store's transaction writer (it retries what DynamoDB cancels for a transient reason). */
    private readonly transact: (operation: string, items: readonly TransactWriteItem[], signal?: AbortSignal) => Promise<void>,
  ) {}

  async read<T>(k: string, signal?: AbortSignal): Promise<VersionedValue<T> | null> {
    const out = await dynamoCall('dynamodb.GetItem(value)', signal, (o) => this.client.send(new GetItemCommand({ TableName: this.table, Key: key(`KV#${k}`, 'KV'), ConsistentRead: true }), o));
    return out.Item ? { value: decodeSmall<T>(out.Item['v']?.S, out.Item['vz']?.B), version: versionOf(out.Item) } : null;
  }

  async compareAndSet<T>(k: string, expectedVersion: number | null, value: T, signal?: AbortSignal): Promise<CasResult<T>> {
    const version = (expectedVersion ?? 0) + 1;
    const item: Item = { ...kvItem(k, value), ver: N(version) };
    try {
      await dynamoCall('dynamodb.PutItem(compare-and-set value)', signal, (o) =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ...(expectedVersion === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : expectedVersion === 0
                ? // A value written before versions existed has no `ver`: version 0.
                  { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(ver)' }
                : { ConditionExpression: 'ver = :e', ExpressionAttributeValues: { ':e': N(expectedVersion) } }),
          }),
          o,
        ),
      );
      return { ok: true, version };
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      return { ok: false, current: await this.read<T>(k, signal) };
    }
  }

  async set(k: string, value: unknown, signal?: AbortSignal): Promise<void> {
    const u = kvUpdate(k, value);
    await dynamoCall('dynamodb.UpdateItem(value)', signal, (o) => this.client.send(new UpdateItemCommand({ TableName: this.table, ...u }), o));
  }

  /** Atomic per transaction of up to 100 values (and 3.5 MB); more are written in several. */
  async setMany(entries: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void> {
    const updates = Object.entries(entries).map(([k, v]) => kvUpdate(k, v));
    let batch: TransactWriteItem[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await this.transact('dynamodb.setValues', batch, signal);
      batch = [];
      bytes = 0;
    };
    for (const u of updates) {
      if (batch.length === TXN_ITEMS || bytes + u.bytes > TXN_BYTES) await flush();
      batch.push({ Update: { TableName: this.table, Key: u.Key, UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues } });
      bytes += u.bytes;
    }
    await flush();
  }

  async getMany<T>(keys: readonly string[], signal?: AbortSignal): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET) {
      let pending: KeysAndAttributes | undefined = { Keys: unique.slice(i, i + BATCH_GET).map((k) => key(`KV#${k}`, 'KV')), ConsistentRead: true };
      for (let attempt = 0; pending?.Keys?.length; attempt++) {
        if (attempt >= UNPROCESSED_ATTEMPTS) throw new StoreThrottledError(`dynamodb.BatchGetItem: ${pending.Keys.length} key(s) still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled)`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        const request: KeysAndAttributes = pending;
        const res = await dynamoCall('dynamodb.BatchGetItem(values)', signal, (o) => this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: request } }), o));
        for (const item of res.Responses?.[this.table] ?? []) out.set(str(item, 'pk').slice(3), decodeSmall<T>(item['v']?.S, item['vz']?.B));
        pending = res.UnprocessedKeys?.[this.table];
      }
    }
    return out;
  }
}

function kvItem(k: string, value: unknown): Item {
  const enc = encodeSmall(value, `value ${k}`);
  return { ...key(`KV#${k}`, 'KV'), ...('text' in enc ? { v: S(enc.text) } : { vz: { B: enc.packed } }) };
}

/** A value written in place with its version bumped (a compare-and-set that read the old version then fails). */
function kvUpdate(k: string, value: unknown): { Key: Item; UpdateExpression: string; ExpressionAttributeValues: Item; bytes: number } {
  const enc = encodeSmall(value, `value ${k}`);
  const [set, drop, v] = 'text' in enc ? (['v', 'vz', S(enc.text)] as const) : (['vz', 'v', { B: enc.packed }] as const);
  return {
    Key: key(`KV#${k}`, 'KV'),
    UpdateExpression: `SET ${set} = :v, ver = if_not_exists(ver, :zero) + :one REMOVE ${drop}`,
    ExpressionAttributeValues: { ':v': v, ':one': N(1), ':zero': N(0) },
    bytes: ('text' in enc ? enc.text.length : enc.packed.length) + 100,
  };
}

/** A value's version; one written before versions existed (no `ver`) is at version 0. */
const versionOf = (item: Item): number => (item['ver']?.N !== undefined ? Number(item['ver'].N) : 0);
