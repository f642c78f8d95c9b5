import { GetItemCommand, QueryCommand, type DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from './errors.js';
import type { EpochMs } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import { decodeDoc, encodeDoc } from './dynamo-blob.js';
import { dynamoCall } from './dynamo-client.js';
import { B, key, N, num, pad, S, str, ttlAt, type Item } from './dynamo-table.js';

/**
 * An incident as items: META carries the fields queries need (state, service, version, times) and the
 * gzipped document when it fits; a larger document lives in DOC#<n> parts, each stamped with the version
 * it belongs to, so a reader that meets parts of another version (a write landed between its two reads)
 * reads again instead of stitching two versions together.
 */
export const PK_INCIDENT = 'INC#';
const partSk = (n: number): string => `DOC#${pad(n, 4)}`;
const READ_ATTEMPTS = 4;

export interface IncidentWriteContext {
  /** The version being replaced, or null for a new incident. */
  readonly previous: number | null;
  /** How many parts the replaced version had (the extra ones are deleted). */
  readonly oldParts: number;
  /** When DynamoDB may delete the incident (ended ones, after the retention), or null. */
  readonly expiresAt: EpochMs | null;
}

/** The transaction items that write `inc`: META first (its index is where a version conflict shows). */
export function incidentWrite(table: string, inc: Incident, ctx: IncidentWriteContext): TransactWriteItem[] {
  const doc = encodeDoc(inc, `incident ${inc.id}`);
  const parts = 'parts' in doc ? doc.parts : [];
  const ttl: Item = ctx.expiresAt !== null ? { ttl: ttlAt(ctx.expiresAt) } : {};
  const meta: Item = {
    ...key(PK_INCIDENT + inc.id, 'META'),
    id: S(inc.id),
    service: S(inc.service),
    // Top-level, so a listing can ask for one account and region (IncidentFilter.place).
    ...(inc.account !== undefined ? { account: S(inc.account) } : {}),
    ...(inc.region !== undefined ? { region: S(inc.region) } : {}),
    state: S(inc.state),
    version: N(inc.version),
    openedAt: N(inc.openedAt),
    updatedAt: N(inc.updatedAt),
    gsi1pk: S(`STATE#${inc.state}`),
    gsi1sk: S(`${pad(inc.openedAt)}#${inc.id}`),
    parts: N(parts.length),
    ...('inline' in doc ? { doc: B(doc.inline) } : {}),
    ...ttl,
  };
  const items: TransactWriteItem[] = [
    {
      Put: {
        TableName: table,
        Item: meta,
        ...(ctx.previous === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': N(ctx.previous) } }),
      },
    },
  ];
  parts.forEach((p, i) => items.push({ Put: { TableName: table, Item: { ...key(PK_INCIDENT + inc.id, partSk(i)), version: N(inc.version), part: B(p), ...ttl } } }));
  for (let i = parts.length; i < ctx.oldParts; i++) items.push({ Delete: { TableName: table, Key: key(PK_INCIDENT + inc.id, partSk(i)) } });
  return items;
}

export const needsParts = (meta: Item): boolean => num(meta, 'parts') > 0;

/** The incident from its META item and (when it has them) its parts in order. */
export function incidentOf(meta: Item, parts: readonly Item[]): Incident {
  const chunks = needsParts(meta) ? parts.map((p) => p['part']?.B ?? new Uint8Array()) : [meta['doc']?.B ?? new Uint8Array()];
  return decodeDoc<Incident>(chunks);
}

export async function readIncident(client: DynamoDBClient, table: string, id: string, signal?: AbortSignal): Promise<Incident | null> {
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const out = await dynamoCall('dynamodb.GetItem(incident)', signal, (o) => client.send(new GetItemCommand({ TableName: table, Key: key(PK_INCIDENT + id, 'META'), ConsistentRead: true }), o));
    if (!out.Item) return null;
    if (!needsParts(out.Item)) return incidentOf(out.Item, []);
    const version = num(out.Item, 'version');
    const want = num(out.Item, 'parts');
    const parts: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await dynamoCall('dynamodb.Query(incident parts)', signal, (o) =>
        client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :p AND begins_with(sk, :d)',
            ExpressionAttributeValues: { ':p': S(PK_INCIDENT + id), ':d': S('DOC#') },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
          o,
        ),
      );
      parts.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const mine = parts.filter((p) => num(p, 'version') === version).sort((a, b) => (str(a, 'sk') < str(b, 'sk') ? -1 : 1));
    if (mine.length === want) return incidentOf(out.Item, mine);
    // A newer version was written between the two reads: read both again.
  }
  throw new StoreUnavailableError(`dynamodb.getIncident: incident ${id} kept changing while being read; try again`, true);
}
