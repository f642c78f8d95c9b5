import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoCall } from './dynamo-client.js';
import { S, type Item } from './dynamo-table.js';

/** Every item under partition `pk` whose sort key begins with `prefix` ('' for all), page after page, consistently read. */
export function queryPrefix(client: DynamoDBClient, table: string, pk: string, prefix: string, signal?: AbortSignal): Promise<Item[]> {
  return queryRange(client, table, pk, prefix === '' ? {} : { prefix }, signal);
}

/** Which items of a partition `queryRange` reads: sort keys in [from, to] (either end open) or beginning with `prefix`, at most `limit`, keys only. */
export interface RangeQuery {
  readonly prefix?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
  readonly keysOnly?: boolean;
}

/** The items under `pk` whose sort key lies in the range, in sort-key order, page after page, consistently read. */
export async function queryRange(client: DynamoDBClient, table: string, pk: string, q: RangeQuery, signal?: AbortSignal): Promise<Item[]> {
  const limit = q.limit ?? Infinity;
  const sk =
    q.prefix !== undefined ? ' AND begins_with(sk, :x)' : q.from !== undefined && q.to !== undefined ? ' AND sk BETWEEN :f AND :t' : q.from !== undefined ? ' AND sk >= :f' : q.to !== undefined ? ' AND sk <= :t' : '';
  const values = { ':p': S(pk), ...(q.prefix !== undefined ? { ':x': S(q.prefix) } : {}), ...(q.from !== undefined ? { ':f': S(q.from) } : {}), ...(q.to !== undefined ? { ':t': S(q.to) } : {}) };
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await dynamoCall('dynamodb.Query', signal, (o) =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: `pk = :p${sk}`,
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ...(q.keysOnly ? { ProjectionExpression: 'pk, sk' } : {}),
          ...(Number.isFinite(limit) ? { Limit: Math.min(1000, limit - items.length) } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        o,
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && items.length < limit);
  return items;
}
