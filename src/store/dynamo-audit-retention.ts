import { BatchWriteItemCommand, GetItemCommand, type AttributeValue, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { EpochMs } from '../core/time.js';
import { TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';
import { signSummary, type AuditSummary } from './audit-chain.js';
import type { DynamoAudit } from './dynamo-audit.js';
import { GLOBAL_CHAIN, headOf, HEADS_PK, incidentOfChain, RECORD_PK, recordOf, SUMMARY_PK, summaryItem, summaryOf, type Head } from './dynamo-audit-items.js';
import { ConditionFailed, dynamoCall } from './dynamo-client.js';
import { PK_INCIDENT } from './dynamo-incident.js';
import { queryRange } from './dynamo-query.js';
import { key, N, pad, S, str, ttlAt } from './dynamo-table.js';
import { StoreRejectedError, StoreUnavailableError } from './errors.js';

/** What one pass removed: records, and incident chains removed whole. */
export interface AuditRetentionReport {
  readonly removed: number;
  readonly chains: number;
}

const SEQ_WIDTH = 12;
/** BatchWriteItem takes at most 25 requests; unprocessed ones are sent again this many times. */
const BATCH = 25;
const BATCH_ATTEMPTS = 5;
/** Records of no incident looked at in one pass (the next pass goes on), so a pass costs the same however long the chain. */
const PREFIX_PER_PASS = 1000;

/**
 * Audit records past their retention on DynamoDB, always under a signed summary of the last record removed
 * (AUDSUM <chain>), so `audit verify` tells a trail pruned by the store from one cut by someone else:
 *
 * - an ended incident's chain (its incident ended, or already expired by TTL) whose last record is older
 *   than the retention goes whole: summary first, then its records, then its head together with a TTL on
 *   the summary (once the global checkpoint no longer lists the chain, nothing needs the summary). A record
 *   written to the chain later goes on from the summary and makes it permanent again;
 * - the chain of records of no incident loses its oldest records as one prefix, never its head.
 *
 * Every step can be cut off (a crash, a throttled call) and done again: records the summary covers are
 * removed on the next pass, and `audit verify` accepts them meanwhile. Refused without the audit key: an
 * unsigned summary would let anyone cut a trail.
 */
export class DynamoAuditRetention {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly auditKey: Buffer | null,
    private readonly audit: DynamoAudit,
  ) {}

  async run(now: EpochMs, retentionMs: number, signal?: AbortSignal): Promise<AuditRetentionReport> {
    if (!this.auditKey) throw new StoreRejectedError('audit records can be removed only under a signed summary: set CLOUDOPS_AUDIT_KEY (nothing was removed)');
    const auditKey = this.auditKey;
    const before = now - retentionMs;
    let removed = 0;
    let chains = 0;
    for (const item of await this.audit.query(HEADS_PK, Infinity, signal)) {
      const chain = str(item, 'sk');
      const head = headOf(item);
      if (chain === GLOBAL_CHAIN) {
        removed += await this.prunePrefix(chain, head, before, now, auditKey, signal);
        continue;
      }
      const incidentId = incidentOfChain(chain);
      if (incidentId === null || head.checkpoint.at >= before || !(await this.ended(incidentId, signal))) continue;
      const n = await this.retireWhole(chain, head, now, retentionMs, auditKey, signal);
      if (n !== null) {
        removed += n;
        chains++;
      }
    }
    // The global checkpoint stops listing the chains removed whole (their summaries cover them until then).
    if (chains > 0) await this.audit.checkpointGlobal(now, signal);
    return { removed, chains };
  }

  /** True when the incident ended or is gone (expired by TTL): nothing more is expected on its chain. */
  private async ended(incidentId: string, signal?: AbortSignal): Promise<boolean> {
    const out = await dynamoCall('dynamodb.GetItem(incident state)', signal, (o) =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK_INCIDENT + incidentId, 'META'), ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'state' } }), o),
    );
    const state = out.Item?.['state']?.S;
    return state === undefined || TERMINAL_STATES.has(state as IncidentState);
  }

  /** The whole chain, if its head has not moved; null when another writer got there first. */
  private async retireWhole(chain: string, head: Head, now: EpochMs, retentionMs: number, auditKey: Buffer, signal?: AbortSignal): Promise<number | null> {
    const summary = signSummary(auditKey, { chain, seq: head.seq, hash: head.hash, at: now });
    const headKey = key(HEADS_PK, chain);
    try {
      await this.audit.transact('dynamodb.retireAuditChain', [
        this.putSummary(summary, true),
        { ConditionCheck: { TableName: this.table, Key: headKey, ConditionExpression: 'seq = :s', ExpressionAttributeValues: { ':s': N(head.seq) } } },
      ], signal);
    } catch (err) {
      if (err instanceof ConditionFailed) return null;
      throw err;
    }
    const removed = await this.removeThrough(chain, head.seq, signal);
    try {
      await this.audit.transact('dynamodb.retireAuditHead', [
        { Delete: { TableName: this.table, Key: headKey, ConditionExpression: 'seq = :s', ExpressionAttributeValues: { ':s': N(head.seq) } } },
        { Update: { TableName: this.table, Key: key(SUMMARY_PK, chain), UpdateExpression: 'SET #ttl = :t', ConditionExpression: 'seq = :s', ExpressionAttributeNames: { '#ttl': 'ttl' }, ExpressionAttributeValues: { ':s': N(head.seq), ':t': ttlAt((now + retentionMs) as EpochMs) } } },
      ], signal);
    } catch (err) {
      // A record landed after the summary: the chain goes on from it, and the summary stays.
      if (!(err instanceof ConditionFailed)) throw err;
    }
    return removed;
  }

  /** The oldest records of `chain` written before `before`, as one prefix that never takes the head. */
  private async prunePrefix(chain: string, head: Head, before: number, now: EpochMs, auditKey: Buffer, signal?: AbortSignal): Promise<number> {
    const stored = await this.audit.getItem(key(SUMMARY_PK, chain), 'audit summary', signal);
    const previous: AuditSummary | null = stored ? summaryOf(stored) : null;
    // What a cut-off pass left behind first.
    let removed = previous ? await this.removeThrough(chain, previous.seq, signal) : 0;
    const from = (previous?.seq ?? 0) + 1;
    if (from > head.seq - 1) return removed;
    let last: { seq: number; hash: string } | null = null;
    for (const item of await queryRange(this.client, this.table, `${RECORD_PK}${chain}`, { from: pad(from, SEQ_WIDTH), to: pad(head.seq - 1, SEQ_WIDTH), limit: PREFIX_PER_PASS }, signal)) {
      const r = recordOf(item);
      if (r.at >= before) break;
      last = { seq: r.seq, hash: r.hash };
    }
    if (!last) return removed;
    try {
      await this.audit.transact('dynamodb.pruneAudit', [this.putSummary(signSummary(auditKey, { chain, ...last, at: now }), false)], signal);
    } catch (err) {
      if (err instanceof ConditionFailed) return removed; // another task moved the summary on first
      throw err;
    }
    removed += await this.removeThrough(chain, last.seq, signal);
    return removed;
  }

  /** Puts the summary unless one further along is there (or, `same`, the same record's again). */
  private putSummary(s: AuditSummary, same: boolean) {
    return {
      Put: {
        TableName: this.table,
        Item: summaryItem(s),
        ConditionExpression: same ? 'attribute_not_exists(pk) OR seq < :s OR (seq = :s AND #h = :h)' : 'attribute_not_exists(pk) OR seq < :s',
        ExpressionAttributeValues: { ':s': N(s.seq), ...(same ? { ':h': S(s.hash) } : {}) },
        ...(same ? { ExpressionAttributeNames: { '#h': 'hash' } } : {}),
      },
    };
  }

  /** Deletes the chain's records 1..seq that are still there; returns how many. */
  private async removeThrough(chain: string, seq: number, signal?: AbortSignal): Promise<number> {
    const keys = await queryRange(this.client, this.table, `${RECORD_PK}${chain}`, { to: pad(seq, SEQ_WIDTH), keysOnly: true }, signal);
    for (let i = 0; i < keys.length; i += BATCH) {
      let pending: WriteRequest[] = keys.slice(i, i + BATCH).map((k): WriteRequest => ({ DeleteRequest: { Key: { pk: k['pk'] as AttributeValue, sk: k['sk'] as AttributeValue } } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === BATCH_ATTEMPTS) throw new StoreUnavailableError(`dynamodb.BatchWriteItem(audit retention): ${pending.length} record(s) of chain ${chain} stayed unprocessed; the next pass goes on`, true);
        const out = await dynamoCall('dynamodb.BatchWriteItem(audit retention)', signal, (o) => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }), o));
        pending = out.UnprocessedItems?.[this.table] ?? [];
      }
    }
    return keys.length;
  }
}
