import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoCall } from './dynamo-client.js';
import { S, type Item } from './dynamo-table.js';

/** Every item under partition `pk` whose sort key begins with `prefix` ('' for all), page after page, consistently read. */
export async function queryPrefix(client: DynamoDBClient, table: string, pk: string, prefix: string, signal?: AbortSignal): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await dynamoCall('dynamodb.Query', signal, (o) =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: prefix === '' ? 'pk = :p' : 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': S(pk), ...(prefix === '' ? {} : { ':s': S(prefix) }) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        o,
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
