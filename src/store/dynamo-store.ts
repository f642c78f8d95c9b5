import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
  type KeysAndAttributes,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientOptions } from '../cloud/aws/clients.js';
import { PermanentError, TransientError } from '../core/errors.js';
import { DAY, type EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import { INCIDENT_STATES, TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';
import { AUDIT_KEY_ENV, auditKeyFrom, type AnchoredVerification } from './audit-chain.js';
import { DynamoAudit } from './dynamo-audit.js';
import { decodeSmall, encodeSmall } from './dynamo-blob.js';
import { createDynamoClient, dynamoCall } from './dynamo-client.js';
import { incidentWrite, readIncident, incidentOf, needsParts, PK_INCIDENT } from './dynamo-incident.js';
import { DynamoLeases } from './dynamo-lease.js';
import { BY_STATE_INDEX, key, N, num, S, str, ttlAt, type Item } from './dynamo-table.js';
import { StaleFencingTokenError, type LeaseFence, type LeaseRecord, type LeaseResult, type LeaseStore } from './lease.js';
import { StoreConflictError, type AuditInput, type AuditRecord, type AuditVerification, type DecisionWrite, type Silence, type Store } from './store.js';

export interface DynamoStoreOptions {
  readonly table: string;
  /** A client to use (tests); otherwise one is built from `aws` and closed with the store. */
  readonly client?: DynamoDBClient;
  readonly aws?: AwsClientOptions;
  /** The key that signs audit checkpoints; default CLOUDOPS_AUDIT_KEY, null writes unsigned ones. */
  readonly auditKey?: Buffer | null;
  /** How often the global audit checkpoint is rewritten. Default 60 s; 0 after every write. */
  readonly globalCheckpointEveryMs?: number;
  /** Ended incidents expire (DynamoDB TTL) this long after their last write. Default null: kept. */
  readonly endedIncidentRetentionMs?: number | null;
  /** Started-step markers (blast-radius count) expire after this. Default 7 days. */
  readonly stepRetentionMs?: number;
  /** Silences expire this long after they end. Default 30 days. */
  readonly silenceRetentionMs?: number;
}

/** TransactWriteItems carries at most 100 items and 4 MB: key-value writes are cut to fit. */
const TXN_ITEMS = 100;
const TXN_BYTES = 3_500_000;
const BATCH_GET = 100;
const UNPROCESSED_ATTEMPTS = 6;

/**
 * The Store and the lease on one DynamoDB table (layout in dynamo-table.ts). Every incident write is
 * conditional on the version it replaces and lands in one transaction with its audit record; large
 * incident documents are gzipped and split into parts written in that same transaction.
 */
export class DynamoStore implements Store, LeaseStore {
  readonly table: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly audit: DynamoAudit;
  private readonly leases: DynamoLeases;
  private readonly endedRetentionMs: number | null;
  private readonly silenceRetentionMs: number;

  constructor(o: DynamoStoreOptions) {
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(o.table)) throw new PermanentError(`dynamodb table: expected 3–255 of a-z A-Z 0-9 _ . -, got "${o.table}"`);
    if (!o.client && !o.aws) throw new PermanentError('DynamoStore needs a client or aws options');
    this.table = o.table;
    this.client = o.client ?? createDynamoClient(o.aws as AwsClientOptions);
    this.ownsClient = !o.client;
    const auditKey = o.auditKey !== undefined ? o.auditKey : auditKeyFrom(process.env[AUDIT_KEY_ENV]);
    this.audit = new DynamoAudit(this.client, { table: o.table, auditKey, globalEveryMs: o.globalCheckpointEveryMs ?? 60_000, stepRetentionMs: o.stepRetentionMs ?? 7 * DAY });
    this.leases = new DynamoLeases(this.client, o.table);
    this.endedRetentionMs = o.endedIncidentRetentionMs ?? null;
    this.silenceRetentionMs = o.silenceRetentionMs ?? 30 * DAY;
  }

  private expiryOf(inc: Incident): EpochMs | null {
    return this.endedRetentionMs !== null && TERMINAL_STATES.has(inc.state) ? ((inc.updatedAt + this.endedRetentionMs) as EpochMs) : null;
  }

  async createIncident(incident: Incident, audit: AuditInput): Promise<void> {
    const ops = incidentWrite(this.table, incident, { previous: null, oldParts: 0, expiresAt: this.expiryOf(incident) });
    await this.audit.write('dynamodb.createIncident', audit, ops, async () => {
      const cur = await this.readVersion(incident.id);
      throw new StoreConflictError(incident.id, 0, cur);
    }, undefined);
  }

  async getIncident(id: string): Promise<Incident | null> {
    return readIncident(this.client, this.table, id);
  }

  async listIncidents(filter: { readonly states?: readonly IncidentState[]; readonly service?: string; readonly limit?: number } = {}): Promise<Incident[]> {
    const limit = filter.limit ?? 1000;
    const states = filter.states ?? INCIDENT_STATES;
    const found: Item[] = [];
    for (const state of new Set(states)) {
      let start: Item | undefined;
      let got = 0;
      do {
        // The index is eventually consistent; every write after a list is conditional on the version read.
        const out = await dynamoCall('dynamodb.Query(incidents by state)', undefined, () =>
          this.client.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: BY_STATE_INDEX,
              KeyConditionExpression: 'gsi1pk = :p',
              ExpressionAttributeValues: { ':p': S(`STATE#${state}`), ...(filter.service !== undefined ? { ':s': S(filter.service) } : {}) },
              ...(filter.service !== undefined ? { FilterExpression: 'service = :s' } : {}),
              ScanIndexForward: false,
              Limit: Math.min(1000, limit),
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          ),
        );
        for (const item of out.Items ?? []) {
          found.push(item);
          got++;
        }
        start = out.LastEvaluatedKey;
      } while (start && got < limit);
    }
    found.sort((a, b) => (str(a, 'gsi1sk') < str(b, 'gsi1sk') ? 1 : -1));
    const out: Incident[] = [];
    for (const item of found.slice(0, limit)) {
      const inc = needsParts(item) ? await this.getIncident(str(item, 'id')) : incidentOf(item, []);
      if (inc) out.push(inc);
    }
    return out;
  }

  async updateIncident(next: Incident, audit: AuditInput, fence?: LeaseFence): Promise<void> {
    const cur = await dynamoCall('dynamodb.GetItem(incident)', undefined, () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK_INCIDENT + next.id, 'META'), ConsistentRead: true, ProjectionExpression: 'version, parts' })),
    );
    const version = cur.Item ? num(cur.Item, 'version') : null;
    if (version !== next.version - 1) throw new StoreConflictError(next.id, next.version - 1, version);
    const ops = incidentWrite(this.table, next, { previous: version, oldParts: cur.Item?.['parts'] ? num(cur.Item, 'parts') : 0, expiresAt: this.expiryOf(next) });
    // A fenced write (an execution step's claim) lands only while its token is the lease's current one, not
    // released: a condition check on the lease item inside the same transaction as the write and its audit.
    const fenceAt = fence ? ops.length : -1;
    const all: TransactWriteItem[] = fence
      ? [
          ...ops,
          {
            ConditionCheck: {
              TableName: this.table,
              Key: key(`LEASE#${fence.lease}`, 'LEASE'),
              ConditionExpression: '#t = :t AND #o <> :none AND expiresAt > :zero',
              ExpressionAttributeNames: { '#t': 'token', '#o': 'owner' },
              ExpressionAttributeValues: { ':t': N(fence.token), ':none': S(''), ':zero': N(0) },
            },
          },
        ]
      : ops;
    await this.audit.write('dynamodb.updateIncident', audit, all, async (failed) => {
      if (fence && failed.includes(fenceAt)) throw new StaleFencingTokenError(fence.lease, fence.token, (await this.readLease(fence.lease))?.token ?? null);
      throw new StoreConflictError(next.id, next.version - 1, await this.readVersion(next.id));
    }, undefined);
  }

  private async readVersion(id: string): Promise<number | null> {
    const out = await dynamoCall('dynamodb.GetItem(incident version)', undefined, () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK_INCIDENT + id, 'META'), ConsistentRead: true, ProjectionExpression: 'version' })),
    );
    return out.Item ? num(out.Item, 'version') : null;
  }

  async addDecision(decision: Decision, audit: AuditInput): Promise<DecisionWrite> {
    const k = key(PK_INCIDENT + decision.incidentId, `DEC#${decision.runbookHash}#${decision.approver}`);
    const put: TransactWriteItem = { Put: { TableName: this.table, Item: { ...k, at: N(decision.at), doc: S(JSON.stringify(decision)) }, ConditionExpression: 'attribute_not_exists(pk)' } };
    return this.audit.write<DecisionWrite>('dynamodb.addDecision', audit, [put], async () => {
      const out = await dynamoCall('dynamodb.GetItem(decision)', undefined, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: k, ConsistentRead: true })));
      if (!out.Item) throw new TransientError(`dynamodb.addDecision: decision of ${decision.approver} on ${decision.incidentId} refused as existing but not found; try again`);
      return { added: false, existing: JSON.parse(str(out.Item, 'doc')) as Decision };
    }, { added: true });
  }

  async listDecisions(incidentId: string): Promise<Decision[]> {
    const items = await this.queryPrefix(PK_INCIDENT + incidentId, 'DEC#');
    const out = items.map((i) => JSON.parse(str(i, 'doc')) as Decision);
    return out.sort((a, b) => a.at - b.at || (a.approver < b.approver ? -1 : a.approver > b.approver ? 1 : 0));
  }

  async appendAudit(entry: AuditInput): Promise<AuditRecord> {
    return this.audit.append(entry);
  }

  async listAudit(filter: { readonly incidentId?: string; readonly limit?: number } = {}): Promise<AuditRecord[]> {
    return this.audit.list(filter);
  }

  async verifyAudit(): Promise<AuditVerification> {
    const v = await this.audit.verify();
    return v.ok ? { ok: true, records: v.records } : { ok: false, records: v.records, firstBadSeq: v.firstBadSeq, problem: v.problem };
  }

  /** Every chain with its head, and the signed global checkpoint (for `cloudops audit verify`). */
  async verifyAnchoredAudit(): Promise<AnchoredVerification> {
    return this.audit.verify();
  }

  /** Writes the global audit checkpoint now (writes do it by themselves every `globalCheckpointEveryMs`). */
  async checkpointAudit(at: EpochMs): Promise<void> {
    await this.audit.checkpointGlobal(at);
  }

  async countStepsSince(since: EpochMs): Promise<number> {
    return this.audit.countStepsSince(since);
  }

  async addSilence(s: Silence, audit: AuditInput): Promise<void> {
    await this.audit.write('dynamodb.addSilence', audit, [{ Put: { TableName: this.table, Item: this.silenceItem(s), ConditionExpression: 'attribute_not_exists(pk)' } }], async () => {
      throw new PermanentError(`silence ${s.id} already exists (nothing was written)`);
    }, undefined);
  }

  private silenceItem(s: Silence): Item {
    return { ...key('SIL', s.id), endsAt: N(s.endsAt), doc: S(JSON.stringify(s)), ttl: ttlAt((s.endsAt + this.silenceRetentionMs) as EpochMs) };
  }

  async listSilences(): Promise<Silence[]> {
    const items = await this.queryPrefix('SIL', '');
    return items.map((i) => JSON.parse(str(i, 'doc')) as Silence).sort((a, b) => a.endsAt - b.endsAt);
  }

  async expireSilence(id: string, at: EpochMs, audit: AuditInput): Promise<boolean> {
    const out = await dynamoCall('dynamodb.GetItem(silence)', undefined, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: key('SIL', id), ConsistentRead: true })));
    if (!out.Item) return false;
    const s: Silence = { ...(JSON.parse(str(out.Item, 'doc')) as Silence), endsAt: at };
    return this.audit.write('dynamodb.expireSilence', audit, [{ Put: { TableName: this.table, Item: this.silenceItem(s), ConditionExpression: 'attribute_exists(pk)' } }], async () => false, true);
  }

  async getValue<T>(k: string): Promise<T | null> {
    const out = await dynamoCall('dynamodb.GetItem(value)', undefined, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: key(`KV#${k}`, 'KV'), ConsistentRead: true })));
    return out.Item ? decodeSmall<T>(out.Item['v']?.S, out.Item['vz']?.B) : null;
  }

  async setValue(k: string, value: unknown): Promise<void> {
    const item = kvItem(k, value);
    await dynamoCall('dynamodb.PutItem(value)', undefined, () => this.client.send(new PutItemCommand({ TableName: this.table, Item: item })));
  }

  /** Atomic per transaction of up to 100 values (and 3.5 MB); more are written in several. */
  async setValues(entries: Readonly<Record<string, unknown>>): Promise<void> {
    const items = Object.entries(entries).map(([k, v]) => kvItem(k, v));
    let batch: TransactWriteItem[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await this.audit.transact('dynamodb.setValues', batch);
      batch = [];
      bytes = 0;
    };
    for (const item of items) {
      const size = (item['v']?.S?.length ?? 0) + (item['vz']?.B?.length ?? 0) + 100;
      if (batch.length === TXN_ITEMS || bytes + size > TXN_BYTES) await flush();
      batch.push({ Put: { TableName: this.table, Item: item } });
      bytes += size;
    }
    await flush();
  }

  async getValues<T>(keys: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET) {
      let pending: KeysAndAttributes | undefined = { Keys: unique.slice(i, i + BATCH_GET).map((k) => key(`KV#${k}`, 'KV')), ConsistentRead: true };
      for (let attempt = 0; pending?.Keys?.length; attempt++) {
        if (attempt >= UNPROCESSED_ATTEMPTS) throw new TransientError(`dynamodb.BatchGetItem: ${pending.Keys.length} key(s) still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled)`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        const request: KeysAndAttributes = pending;
        const res = await dynamoCall('dynamodb.BatchGetItem(values)', undefined, () => this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: request } })));
        for (const item of res.Responses?.[this.table] ?? []) out.set(str(item, 'pk').slice(3), decodeSmall<T>(item['v']?.S, item['vz']?.B));
        pending = res.UnprocessedKeys?.[this.table];
      }
    }
    return out;
  }

  acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    return this.leases.acquireLease(name, owner, now, ttlMs, signal);
  }

  releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean> {
    return this.leases.releaseLease(name, owner, token, signal);
  }

  readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    return this.leases.readLease(name, signal);
  }

  private async queryPrefix(pk: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await dynamoCall('dynamodb.Query', undefined, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: prefix === '' ? 'pk = :p' : 'pk = :p AND begins_with(sk, :s)',
            ExpressionAttributeValues: { ':p': S(pk), ...(prefix === '' ? {} : { ':s': S(prefix) }) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}

function kvItem(k: string, value: unknown): Item {
  const enc = encodeSmall(value, `value ${k}`);
  return { ...key(`KV#${k}`, 'KV'), ...('text' in enc ? { v: S(enc.text) } : { vz: { B: enc.packed } }) };
}
