import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { StoreRejectedError } from './errors.js';
import { toSeconds, type EpochMs, type Seconds } from '../core/time.js';

/**
 * The single table's layout. Every item has `pk` and `sk`; what lives where:
 *
 *   INC#<id>      META                     the incident's index fields and its document (inline or in parts)
 *   INC#<id>      DOC#<n>                  part n of a large incident document (gzip, split, stamped with its version)
 *   INC#<id>      DEC#<hash>#<approver>    one decision
 *   AUD#<chain>   <seq, 12 digits>         one audit record of a chain (one chain per incident, one global)
 *   AUDHEAD       <chain>                  the chain's head: signed checkpoint of its last record
 *   AUDCP         GLOBAL (+ parts)         the signed global checkpoint over every chain head
 *   AUDSUM        <chain>                  signed summary of a chain's records removed past their retention
 *   STEPS         <at>#<chain>#<seq>       a started step, for the blast-radius count (expires by TTL)
 *   SIL           <id>                     a silence
 *   BUDGET        <hour start>             steps claimed in that clock hour (the blast-radius budget; expires by TTL)
 *   KV#<key>      KV                       a small named value, with its version `ver` (compare-and-set)
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
  if (v === undefined) throw new StoreRejectedError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no string ${name}`);
  return v;
}

export function num(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new StoreRejectedError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no number ${name}`);
  return Number(v);
}

export function bin(item: Item, name: string): Uint8Array {
  const v = item[name]?.B;
  if (v === undefined) throw new StoreRejectedError(`dynamodb item ${item['pk']?.S ?? '?'}/${item['sk']?.S ?? '?'} has no binary ${name}`);
  return v;
}

/**
 * The table's definition: on-demand, keys pk/sk, the state index, and `ttl` as its TTL attribute. The
 * daemon never creates tables (its IAM role cannot); infrastructure code and the test helper
 * (test/aws/dynamo-table-setup.ts `ensureTable`) create it from this.
 */
export function tableDefinition(table: string): CreateTableCommandInput & { readonly ttlAttribute: string } {
  return {
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
    ttlAttribute: TTL_ATTRIBUTE,
  };
}
