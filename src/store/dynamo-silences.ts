import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EpochMs } from '../core/time.js';
import type { DynamoAudit } from './dynamo-audit.js';
import { dynamoCall } from './dynamo-client.js';
import { queryPrefix } from './dynamo-query.js';
import { key, N, S, str, ttlAt, type Item } from './dynamo-table.js';
import { StoreRejectedError } from './errors.js';
import type { AuditInput, Silence } from './store.js';

/** Silences on DynamoDB (`SIL` partition), each written with its audit record; expired by TTL `retentionMs` after they end. */
export class DynamoSilences {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly audit: DynamoAudit,
    private readonly retentionMs: number,
  ) {}

  add(s: Silence, audit: AuditInput, signal?: AbortSignal): Promise<void> {
    return this.audit.write('dynamodb.addSilence', audit, [{ Put: { TableName: this.table, Item: this.item(s), ConditionExpression: 'attribute_not_exists(pk)' } }], async () => {
      throw new StoreRejectedError(`silence ${s.id} already exists (nothing was written)`);
    }, undefined, signal);
  }

  async list(signal?: AbortSignal): Promise<Silence[]> {
    const items = await queryPrefix(this.client, this.table, 'SIL', '', signal);
    return items.map((i) => JSON.parse(str(i, 'doc')) as Silence).sort((a, b) => a.endsAt - b.endsAt);
  }

  async expire(id: string, at: EpochMs, audit: AuditInput, signal?: AbortSignal): Promise<boolean> {
    const out = await dynamoCall('dynamodb.GetItem(silence)', signal, (o) => this.client.send(new GetItemCommand({ TableName: this.table, Key: key('SIL', id), ConsistentRead: true }), o));
    if (!out.Item) return false;
    const s: Silence = { ...(JSON.parse(str(out.Item, 'doc')) as Silence), endsAt: at };
    return this.audit.write('dynamodb.expireSilence', audit, [{ Put: { TableName: this.table, Item: this.item(s), ConditionExpression: 'attribute_exists(pk)' } }], async () => false, true, signal);
  }

  private item(s: Silence): Item {
    return { ...key('SIL', s.id), endsAt: N(s.endsAt), doc: S(JSON.stringify(s)), ttl: ttlAt((s.endsAt + this.retentionMs) as EpochMs) };
  }
}
