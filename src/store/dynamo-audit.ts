import { createHash } from 'node:crypto';
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
import { canonicalJson } from '../runbook/runbook.js';
import { chainRecord, checkpointProblem, GENESIS_HASH, signCheckpoint, verifyAnchored, type AnchoredVerification, type AuditCheckpoint } from './audit-chain.js';
import { decodeDoc, decodeSmall, encodeDoc, encodeSmall } from './dynamo-blob.js';
import { ConditionFailed, dynamoCall } from './dynamo-client.js';
import { B, key, N, num, pad, S, str, ttlAt, type Item } from './dynamo-table.js';
import type { AuditInput, AuditRecord } from './store.js';

/**
 * The audit trail on DynamoDB. One hash chain per incident (and one for records of no incident), so
 * writers on different incidents never contend for one item; each chain's head item is a signed
 * checkpoint of its last record, written in the same transaction as the record (a cut-off chain is
 * caught as on SQLite). A signed global checkpoint lists every chain's head at one moment, so a chain
 * deleted whole, or a head put back to an older signed copy, is caught too. It is rewritten at most once
 * per `globalEveryMs` (by whichever writer notices first), not on every write.
 */

export const GLOBAL_CHAIN = 'global';
export const chainOf = (incidentId: string | null): string => (incidentId === null ? GLOBAL_CHAIN : `inc:${incidentId}`);
const SEQ_WIDTH = 12;
const HEADS = 'AUDHEAD';
const CP_PK = 'AUDCP';
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

type Head = { readonly seq: number; readonly hash: string; readonly checkpoint: AuditCheckpoint } | null;

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
      const head = await this.head(chain, signal);
      const { ops, record } = this.recordOps(chain, head, entry);
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
      const head = await this.head(chain, signal);
      const { ops, record } = this.recordOps(chain, head, entry);
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

  private recordOps(chain: string, head: Head, entry: AuditInput): { ops: TransactWriteItem[]; record: AuditRecord } {
    const record = chainRecord((head?.seq ?? 0) + 1, head?.hash ?? GENESIS_HASH, entry);
    const data = encodeSmall(record.data, `audit record ${record.kind}`);
    const item: Item = {
      ...key(`AUD#${chain}`, pad(record.seq, SEQ_WIDTH)),
      seq: N(record.seq),
      at: N(record.at),
      kind: S(record.kind),
      actor: S(record.actor),
      prevHash: S(record.prevHash),
      hash: S(record.hash),
      ...('text' in data ? { data: S(data.text) } : { dataz: B(data.packed) }),
      ...(record.incidentId !== null ? { incidentId: S(record.incidentId) } : {}),
    };
    const cp = signCheckpoint(this.o.auditKey, { seq: record.seq, hash: record.hash, at: record.at });
    const headItem: Item = { ...key(HEADS, chain), seq: N(cp.seq), hash: S(cp.hash), at: N(cp.at), ...(cp.keyId ? { keyId: S(cp.keyId) } : {}), ...(cp.mac ? { mac: S(cp.mac) } : {}) };
    const ops: TransactWriteItem[] = [
      { Put: { TableName: this.o.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Put: {
          TableName: this.o.table,
          Item: headItem,
          ...(head
            ? { ConditionExpression: 'seq = :prev', ExpressionAttributeValues: { ':prev': N(head.seq) } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      },
    ];
    if (record.kind === 'step.started') {
      ops.push({ Put: { TableName: this.o.table, Item: { ...key(STEPS, `${pad(record.at)}#${chain}#${pad(record.seq, SEQ_WIDTH)}`), ttl: ttlAt((record.at + this.o.stepRetentionMs) as EpochMs) } } });
    }
    return { ops, record };
  }

  private async head(chain: string, signal?: AbortSignal): Promise<Head> {
    const out = await dynamoCall('dynamodb.GetItem(audit head)', signal, (o) =>
      this.client.send(new GetItemCommand({ TableName: this.o.table, Key: key(HEADS, chain), ConsistentRead: true }), o),
    );
    return out.Item ? headOf(out.Item) : null;
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
    const chains = (await this.queryAll(HEADS, Infinity, signal)).map((h) => str(h, 'sk'));
    const all: { chain: string; r: AuditRecord }[] = [];
    for (const c of chains) for (const r of await this.chain(c, limit, signal)) all.push({ chain: c, r });
    all.sort((a, b) => a.r.at - b.r.at || (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.r.seq - b.r.seq));
    return all.slice(0, limit).map((x) => x.r);
  }

  private async chain(chain: string, limit: number, signal?: AbortSignal): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const item of await this.queryAll(`AUD#${chain}`, limit, signal)) out.push(recordOf(item));
    return out;
  }

  private async queryAll(pk: string, limit = Infinity, signal?: AbortSignal): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await dynamoCall('dynamodb.Query', signal, (o) =>
        this.client.send(
          new QueryCommand({
            TableName: this.o.table,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': S(pk) },
            ConsistentRead: true,
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
    const heads = (await this.queryAll(HEADS, Infinity, signal)).map((h) => [str(h, 'sk'), num(h, 'seq'), str(h, 'hash')] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const cp = signCheckpoint(this.o.auditKey, { seq: heads.length, hash: digestOf(heads), at });
    const doc = encodeDoc(heads, 'the global audit checkpoint');
    const parts = 'parts' in doc ? doc.parts : [];
    const meta: Item = {
      ...key(CP_PK, 'GLOBAL'),
      seq: N(cp.seq),
      hash: S(cp.hash),
      at: N(cp.at),
      parts: N(parts.length),
      ...('inline' in doc ? { doc: B(doc.inline) } : {}),
      ...(cp.keyId ? { keyId: S(cp.keyId) } : {}),
      ...(cp.mac ? { mac: S(cp.mac) } : {}),
    };
    try {
      await this.transact('dynamodb.checkpointGlobal', [
        { Put: { TableName: this.o.table, Item: meta, ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at', ExpressionAttributeNames: { '#at': 'at' }, ExpressionAttributeValues: { ':at': N(at) } } },
        ...parts.map((p, i): TransactWriteItem => ({ Put: { TableName: this.o.table, Item: { ...key(CP_PK, `PART#${pad(i, 4)}`), at: N(at), part: B(p) } } })),
      ], signal);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err; // a newer one is already there
    }
    this.lastGlobalAt = at;
  }

  /**
   * Every chain walked and anchored by its head, then the global checkpoint: signed, its list intact, and
   * every chain it lists still present with the record it names. Reads the whole table (an offline check).
   */
  async verify(signal?: AbortSignal): Promise<AnchoredVerification> {
    const records = new Map<string, AuditRecord[]>();
    const heads = new Map<string, Head>();
    let incidents = 0;
    let globalItem: Item | null = null;
    const globalParts: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await dynamoCall('dynamodb.Scan(audit verify)', signal, (o) =>
        this.client.send(new ScanCommand({ TableName: this.o.table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }), o),
      );
      for (const item of out.Items ?? []) {
        const pk = str(item, 'pk');
        const sk = str(item, 'sk');
        if (pk.startsWith('AUD#')) {
          const chain = pk.slice(4);
          const list = records.get(chain) ?? [];
          list.push(recordOf(item));
          records.set(chain, list);
        } else if (pk === HEADS) heads.set(sk, headOf(item));
        else if (pk === CP_PK) {
          if (sk === 'GLOBAL') globalItem = item;
          else globalParts.push(item);
        } else if (pk.startsWith('INC#') && sk === 'META') incidents++;
      }
      start = out.LastEvaluatedKey;
    } while (start);

    let total = 0;
    const chains = [...new Set([...records.keys(), ...heads.keys()])].sort();
    for (const chain of chains) {
      const list = (records.get(chain) ?? []).sort((a, b) => a.seq - b.seq);
      const stray = list.find((r) => chainOf(r.incidentId) !== chain);
      if (stray) return { ok: false, records: total + list.length, firstBadSeq: stray.seq, problem: `chain ${chain}: record ${stray.seq} belongs to ${chainOf(stray.incidentId)} (it was moved)` };
      const v = verifyAnchored(list, heads.get(chain)?.checkpoint ?? null, this.o.auditKey, 0);
      if (!v.ok) return { ...v, records: total + v.records, problem: `chain ${chain}: ${v.problem}` };
      total += v.records;
    }
    if (chains.length === 0) {
      if (incidents > 0) return { ok: false, records: 0, firstBadSeq: 1, problem: `the audit trail is empty but ${incidents} incident(s) exist: the records were removed` };
      if (!globalItem) return { ok: true, records: 0, anchor: 'empty' };
    }
    const g = globalItem;
    if (!g) return { ok: false, records: total, firstBadSeq: 1, problem: 'no global checkpoint lists the chains (it was deleted, or the records were written around the store)' };
    const cp = headOf(g).checkpoint;
    const bad = checkpointProblem(this.o.auditKey, cp);
    if (bad) return { ok: false, records: total, firstBadSeq: 1, problem: `global checkpoint: ${bad.problem}`, ...(bad.missingKey ? { cannotVerify: true as const } : {}) };
    const when = new Date(cp.at).toISOString();
    let listed: [string, number, string][];
    try {
      const parts = globalParts.filter((p) => num(p, 'at') === cp.at).sort((a, b) => (str(a, 'sk') < str(b, 'sk') ? -1 : 1));
      listed = decodeDoc(num(g, 'parts') > 0 ? parts.map((p) => p['part']?.B ?? new Uint8Array()) : [g['doc']?.B ?? new Uint8Array()]);
    } catch {
      return { ok: false, records: total, firstBadSeq: 1, problem: `the global checkpoint of ${when} cannot be read (its list was altered or lost)` };
    }
    if (listed.length !== cp.seq || digestOf(listed) !== cp.hash) return { ok: false, records: total, firstBadSeq: 1, problem: `the global checkpoint of ${when} does not match its signed digest (its list was altered)` };
    for (const [chain, seq, hash] of listed) {
      const list = records.get(chain) ?? [];
      if (list.length === 0) return { ok: false, records: total, firstBadSeq: 1, problem: `chain ${chain} was removed: the global checkpoint of ${when} lists it with ${seq} record(s)` };
      const at = list.find((r) => r.seq === seq);
      if (!at) return { ok: false, records: total, firstBadSeq: list.length + 1, problem: `chain ${chain}: truncated: it ends at record ${list.length} but the global checkpoint of ${when} covers ${seq}` };
      if (at.hash !== hash) return { ok: false, records: total, firstBadSeq: seq, problem: `chain ${chain}: record ${seq} is not the one the global checkpoint of ${when} lists (the chain was rewritten)` };
    }
    return { ok: true, records: total, anchor: cp.mac ? 'signed' : 'unsigned' };
  }
}

const digestOf = (heads: readonly (readonly [string, number, string])[]): string => 'sha256:' + createHash('sha256').update(canonicalJson(heads)).digest('hex');

function headOf(item: Item): NonNullable<Head> {
  const checkpoint: AuditCheckpoint = { seq: num(item, 'seq'), hash: str(item, 'hash'), at: num(item, 'at'), keyId: item['keyId']?.S ?? null, mac: item['mac']?.S ?? null };
  return { seq: checkpoint.seq, hash: checkpoint.hash, checkpoint };
}

function recordOf(item: Item): AuditRecord {
  return {
    seq: num(item, 'seq'),
    at: num(item, 'at') as EpochMs,
    incidentId: item['incidentId']?.S ?? null,
    kind: str(item, 'kind'),
    actor: str(item, 'actor'),
    data: decodeSmall<Record<string, unknown>>(item['data']?.S, item['dataz']?.B),
    prevHash: str(item, 'prevHash'),
    hash: str(item, 'hash'),
  };
}
