import {
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from './errors.js';
import type { EpochMs } from '../core/time.js';
import { chainRecord, GENESIS_HASH, signCheckpoint, type AnchoredVerification } from './audit-chain.js';
import { chainOf, checkpointAttributes, CHECKPOINT_PK, digestOf, headOf, HEADS_PK, recordItem, recordOf, SUMMARY_PK, summaryOf } from './dynamo-audit-items.js';
import { addScanned, emptyScan, verifyAuditScan } from './dynamo-audit-verify.js';
import { encodeDoc } from './dynamo-blob.js';
import { ConditionFailed, dynamoCall } from './dynamo-client.js';
import { queryRange } from './dynamo-query.js';
import { B, key, N, num, pad, S, str, ttlAt, type Item } from './dynamo-table.js';
import type { AuditInput, AuditRecord } from './store.js';

export { chainOf, GLOBAL_CHAIN } from './dynamo-audit-items.js';

/**
 * The audit trail on DynamoDB. One hash chain per incident (and one for records of no incident), so
 * writers on different incidents never contend for one item; each chain's head item is a signed
 * checkpoint of its last record, written in the same transaction as the record (a cut-off chain is
 * caught as on SQLite). A signed global checkpoint lists every chain's head at one moment, so a chain
 * deleted whole, or a head put back to an older signed copy, is caught too. It is rewritten at most once
 * per `globalEveryMs` (by whichever writer notices first), not on every write. Records removed past their
 * retention (dynamo-audit-retention.ts) leave a signed summary the chain goes on from.
 */

const STEPS = 'STEPS';
/** Attempts at one write when other writers keep moving the same chain's head. */
const CHAIN_ATTEMPTS = 8;

export interface DynamoAuditOptions {
  readonly table: string;
  readonly auditKey: Buffer | null;
  /** How often the global checkpoint is rewritten (0: after every write). */
  readonly globalEveryMs: number;
  /** How long a started-step marker is kept for the blast-radius count. */
  readonly stepRetentionMs: number;
}

/** Where the next record of a chain links: its head, or (no head) the summary of its removed records, or the genesis. */
type ChainEnd = { readonly seq: number; readonly hash: string; readonly from: 'head' | 'summary' | 'genesis' };

export class DynamoAudit {
  private lastGlobalAt = -Infinity;
  /** Why the last automatic global checkpoint failed, or null (the next write tries again). */
  lastGlobalError: string | null = null;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly o: DynamoAuditOptions,
  ) {}

  /** Writes `main` and the audit record of `entry` in one transaction; retries while only the chain head moved. */
  async write<R>(operation: string, entry: AuditInput, main: readonly TransactWriteItem[], onMainCondition: (indexes: readonly number[]) => Promise<R>, done: R, signal?: AbortSignal): Promise<R> {
    const chain = chainOf(entry.incidentId);
    for (let attempt = 0; attempt < CHAIN_ATTEMPTS; attempt++) {
      const { ops, record } = this.recordOps(chain, await this.end(chain, signal), entry);
      try {
        await this.transact(operation, [...main, ...ops], signal);
      } catch (err) {
        if (!(err instanceof ConditionFailed)) throw err;
        const mine = err.indexes.filter((i) => i < main.length);
        if (mine.length > 0) return onMainCondition(mine);
        continue; // another writer appended to this chain first: link to its record instead
      }
      await this.maybeGlobal(record.at);
      return done;
    }
    throw new StoreUnavailableError(`${operation}: audit chain ${chain} kept moving under ${CHAIN_ATTEMPTS} attempts; try again`, true);
  }

  async append(entry: AuditInput, signal?: AbortSignal): Promise<AuditRecord> {
    let written: AuditRecord | null = null;
    const chain = chainOf(entry.incidentId);
    for (let attempt = 0; attempt < CHAIN_ATTEMPTS && !written; attempt++) {
      const { ops, record } = this.recordOps(chain, await this.end(chain, signal), entry);
      try {
        await this.transact('dynamodb.appendAudit', ops, signal);
        written = record;
      } catch (err) {
        if (!(err instanceof ConditionFailed)) throw err;
      }
    }
    if (!written) throw new StoreUnavailableError(`dynamodb.appendAudit: audit chain ${chain} kept moving under ${CHAIN_ATTEMPTS} attempts; try again`, true);
    await this.maybeGlobal(written.at);
    return written;
  }

  /**
   * The SDK fills ClientRequestToken once per command and resends it on its own retries, so a transaction
   * whose answer was lost is not applied twice (DynamoDB's 10-minute idempotency window). A failure that
   * outlives the retries is a StoreError: the caller re-reads before deciding again.
   */
  async transact(operation: string, items: readonly TransactWriteItem[], signal?: AbortSignal): Promise<void> {
    await dynamoCall(operation, signal, (o) => this.client.send(new TransactWriteItemsCommand({ TransactItems: [...items] }), o));
  }

  private recordOps(chain: string, end: ChainEnd, entry: AuditInput): { ops: TransactWriteItem[]; record: AuditRecord } {
    const record = chainRecord(end.seq + 1, end.hash, entry);
    const cp = signCheckpoint(this.o.auditKey, { seq: record.seq, hash: record.hash, at: record.at });
    const ops: TransactWriteItem[] = [
      { Put: { TableName: this.o.table, Item: recordItem(chain, record), ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Put: {
          TableName: this.o.table,
          Item: { ...key(HEADS_PK, chain), ...checkpointAttributes(cp) },
          ...(end.from === 'head'
            ? { ConditionExpression: 'seq = :prev', ExpressionAttributeValues: { ':prev': N(end.seq) } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      },
    ];
    if (end.from === 'summary') {
      // The chain goes on from the summary of its removed records, which must then stay as long as the chain does.
      ops.push({ Update: { TableName: this.o.table, Key: key(SUMMARY_PK, chain), UpdateExpression: 'REMOVE #ttl', ConditionExpression: 'seq = :s', ExpressionAttributeNames: { '#ttl': 'ttl' }, ExpressionAttributeValues: { ':s': N(end.seq) } } });
    }
    if (record.kind === 'step.started') {
      ops.push({ Put: { TableName: this.o.table, Item: { ...key(STEPS, `${pad(record.at)}#${chain}#${pad(record.seq, 12)}`), ttl: ttlAt((record.at + this.o.stepRetentionMs) as EpochMs) } } });
    }
    return { ops, record };
  }

  private async end(chain: string, signal?: AbortSignal): Promise<ChainEnd> {
    const head = await this.getItem(key(HEADS_PK, chain), 'audit head', signal);
    if (head) return { ...pick(headOf(head)), from: 'head' };
    const summary = await this.getItem(key(SUMMARY_PK, chain), 'audit summary', signal);
    return summary ? { ...pick(summaryOf(summary)), from: 'summary' } : { seq: 0, hash: GENESIS_HASH, from: 'genesis' };
  }

  /** One item by key, consistently read, or null. */
  async getItem(k: Item, what: string, signal?: AbortSignal): Promise<Item | null> {
    const out = await dynamoCall(`dynamodb.GetItem(${what})`, signal, (o) => this.client.send(new GetItemCommand({ TableName: this.o.table, Key: k, ConsistentRead: true }), o));
    return out.Item ?? null;
  }

  async countStepsSince(since: EpochMs, signal?: AbortSignal): Promise<number> {
    let n = 0;
    let start: Item | undefined;
    do {
      const out = await dynamoCall('dynamodb.Query(steps)', signal, (o) =>
        this.client.send(
          new QueryCommand({
            TableName: this.o.table,
            KeyConditionExpression: 'pk = :p AND sk >= :s',
            ExpressionAttributeValues: { ':p': S(STEPS), ':s': S(pad(since)) },
            Select: 'COUNT',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
          o,
        ),
      );
      n += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return n;
  }

  /** One chain's records in order (an incident's trail), or every chain merged by time. */
  async list(filter: { readonly incidentId?: string; readonly limit?: number }, signal?: AbortSignal): Promise<AuditRecord[]> {
    const limit = filter.limit ?? 10_000;
    if (filter.incidentId !== undefined) return this.chain(chainOf(filter.incidentId), limit, signal);
    const chains = (await this.query(HEADS_PK, Infinity, signal)).map((h) => str(h, 'sk'));
    const all: { chain: string; r: AuditRecord }[] = [];
    for (const c of chains) for (const r of await this.chain(c, limit, signal)) all.push({ chain: c, r });
    all.sort((a, b) => a.r.at - b.r.at || (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.r.seq - b.r.seq));
    return all.slice(0, limit).map((x) => x.r);
  }

  private async chain(chain: string, limit: number, signal?: AbortSignal): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const item of await this.query(`AUD#${chain}`, limit, signal)) out.push(recordOf(item));
    return out;
  }

  /** Every item under `pk` (up to `limit`), in sort-key order. */
  query(pk: string, limit = Infinity, signal?: AbortSignal): Promise<Item[]> {
    return queryRange(this.client, this.o.table, pk, { limit }, signal);
  }

  private async maybeGlobal(at: EpochMs): Promise<void> {
    if (at - this.lastGlobalAt < this.o.globalEveryMs) return;
    try {
      await this.checkpointGlobal(at);
      this.lastGlobalError = null;
    } catch (err) {
      // The record itself is written; the next write tries the checkpoint again, and verify reports a stale one.
      this.lastGlobalError = (err as Error).message;
    }
  }

  /** Signs the list of every chain head now; a later (by `at`) global checkpoint is never replaced by an older one. */
  async checkpointGlobal(at: EpochMs, signal?: AbortSignal): Promise<void> {
    const heads = (await this.query(HEADS_PK, Infinity, signal)).map((h) => [str(h, 'sk'), num(h, 'seq'), str(h, 'hash')] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const cp = signCheckpoint(this.o.auditKey, { seq: heads.length, hash: digestOf(heads), at });
    const doc = encodeDoc(heads, 'the global audit checkpoint');
    const parts = 'parts' in doc ? doc.parts : [];
    const meta: Item = {
      ...key(CHECKPOINT_PK, 'GLOBAL'),
      ...checkpointAttributes(cp),
      parts: N(parts.length),
      ...('inline' in doc ? { doc: B(doc.inline) } : {}),
    };
    try {
      await this.transact('dynamodb.checkpointGlobal', [
        { Put: { TableName: this.o.table, Item: meta, ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at', ExpressionAttributeNames: { '#at': 'at' }, ExpressionAttributeValues: { ':at': N(at) } } },
        ...parts.map((p, i): TransactWriteItem => ({ Put: { TableName: this.o.table, Item: { ...key(CHECKPOINT_PK, `PART#${pad(i, 4)}`), at: N(at), part: B(p) } } })),
      ], signal);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err; // a newer one is already there
    }
    this.lastGlobalAt = at;
  }

  /** The whole trail checked (dynamo-audit-verify.ts). Reads the whole table: an offline check. */
  async verify(signal?: AbortSignal): Promise<AnchoredVerification> {
    const scan = emptyScan();
    let start: Item | undefined;
    do {
      const out = await dynamoCall('dynamodb.Scan(audit verify)', signal, (o) =>
        this.client.send(new ScanCommand({ TableName: this.o.table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }), o),
      );
      for (const item of out.Items ?? []) addScanned(scan, item);
      start = out.LastEvaluatedKey;
    } while (start);
    return verifyAuditScan(scan, this.o.auditKey);
  }
}

const pick = (h: { readonly seq: number; readonly hash: string }) => ({ seq: h.seq, hash: h.hash });
