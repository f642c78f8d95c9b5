import { GetItemCommand, QueryCommand, type DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { AwsClientOptions } from '../cloud/aws/clients.js';
import { StepBudgetSpentError, StoreConflictError, StoreRejectedError, StoreUnavailableError } from './errors.js';
import { DAY, type EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import { INCIDENT_STATES, TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';
import { AUDIT_KEY_ENV, auditKeyFrom, type AnchoredVerification } from './audit-chain.js';
import { DynamoAudit } from './dynamo-audit.js';
import { DynamoAuditRetention } from './dynamo-audit-retention.js';
import { createDynamoClient, dynamoCall, guarded } from './dynamo-client.js';
import { incidentWrite, readIncident, incidentOf, needsParts, PK_INCIDENT } from './dynamo-incident.js';
import { DynamoLeases } from './dynamo-lease.js';
import { queryPrefix } from './dynamo-query.js';
import { DynamoSilences } from './dynamo-silences.js';
import { DynamoValues } from './dynamo-values.js';
import { BY_STATE_INDEX, key, N, num, pad, S, str, TTL_ATTRIBUTE, ttlAt, type Item } from './dynamo-table.js';
import { StaleFencingTokenError, type LeaseFence, type LeaseRecord, type LeaseResult, type LeaseStore } from './lease.js';
import { hourBucket, type AuditInput, type AuditRecord, type AuditVerification, type CasResult, type DecisionWrite, type IncidentFilter, type MaintenanceReport, type Silence, type Store, type StoreCallOptions, type UpdateOptions, type VersionedValue } from './store.js';

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
  /** Audit chains of ended incidents, and old records of no incident, are removed after this under a signed summary (needs the audit key). Default null: kept. */
  readonly auditRetentionMs?: number | null;
  /** Started-step markers (blast-radius count) expire after this. Default 7 days. */
  readonly stepRetentionMs?: number;
  /** Silences expire this long after they end. Default 30 days. */
  readonly silenceRetentionMs?: number;
}

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
  private readonly values: DynamoValues;
  private readonly silences: DynamoSilences;
  private readonly endedRetentionMs: number | null;
  private readonly auditRetentionMs: number | null;
  private readonly retention: DynamoAuditRetention;

  constructor(o: DynamoStoreOptions) {
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(o.table)) throw new StoreRejectedError(`dynamodb table: expected 3–255 of a-z A-Z 0-9 _ . -, got "${o.table}"`);
    if (!o.client && !o.aws) throw new StoreRejectedError('DynamoStore needs a client or aws options');
    this.table = o.table;
    this.client = o.client ?? createDynamoClient(o.aws as AwsClientOptions);
    this.ownsClient = !o.client;
    const auditKey = o.auditKey !== undefined ? o.auditKey : auditKeyFrom(process.env[AUDIT_KEY_ENV]);
    this.audit = new DynamoAudit(this.client, { table: o.table, auditKey, globalEveryMs: o.globalCheckpointEveryMs ?? 60_000, stepRetentionMs: o.stepRetentionMs ?? 7 * DAY });
    this.leases = new DynamoLeases(this.client, o.table);
    this.endedRetentionMs = o.endedIncidentRetentionMs ?? null;
    this.auditRetentionMs = o.auditRetentionMs ?? null;
    this.retention = new DynamoAuditRetention(this.client, o.table, auditKey, this.audit);
    this.values = new DynamoValues(this.client, o.table, (op, items, signal) => this.audit.transact(op, items, signal));
    this.silences = new DynamoSilences(this.client, o.table, this.audit, o.silenceRetentionMs ?? 30 * DAY);
  }

  private expiryOf(inc: Incident): EpochMs | null {
    return this.endedRetentionMs !== null && TERMINAL_STATES.has(inc.state) ? ((inc.updatedAt + this.endedRetentionMs) as EpochMs) : null;
  }

  createIncident(incident: Incident, audit: AuditInput, opts?: StoreCallOptions): Promise<void> {
    const signal = opts?.signal;
    return guarded('dynamodb.createIncident', signal, async () => {
      const ops = incidentWrite(this.table, incident, { previous: null, oldParts: 0, expiresAt: this.expiryOf(incident) });
      await this.audit.write('dynamodb.createIncident', audit, ops, async () => {
        const cur = await this.readVersion(incident.id, signal);
        throw new StoreConflictError(incident.id, 0, cur);
      }, undefined, signal);
    });
  }

  getIncident(id: string, opts?: StoreCallOptions): Promise<Incident | null> {
    return guarded('dynamodb.getIncident', opts?.signal, () => readIncident(this.client, this.table, id, opts?.signal));
  }

  listIncidents(filter: IncidentFilter = {}, opts?: StoreCallOptions): Promise<Incident[]> {
    const signal = opts?.signal;
    return guarded('dynamodb.listIncidents', signal, async () => {
      const limit = filter.limit ?? 1000;
      const states = filter.states ?? INCIDENT_STATES;
      const conditions: string[] = filter.service !== undefined ? ['service = :s'] : [];
      if (filter.place) {
        // An item without account (region) is the home account's (region's).
        const p = filter.place;
        conditions.push(p.account === p.home.name ? '(#acc = :acc OR attribute_not_exists(#acc))' : '#acc = :acc');
        conditions.push(p.region === p.home.region ? '(#reg = :reg OR attribute_not_exists(#reg))' : '#reg = :reg');
      }
      const found: Item[] = [];
      for (const state of new Set(states)) {
        let start: Item | undefined;
        let got = 0;
        do {
          // The index is eventually consistent; every write after a list is conditional on the version read.
          const out = await dynamoCall('dynamodb.Query(incidents by state)', signal, (o) =>
            this.client.send(
              new QueryCommand({
                TableName: this.table,
                IndexName: BY_STATE_INDEX,
                KeyConditionExpression: filter.openedAfter !== undefined ? 'gsi1pk = :p AND gsi1sk >= :a' : 'gsi1pk = :p',
                ExpressionAttributeValues: {
                  ':p': S(`STATE#${state}`),
                  ...(filter.openedAfter !== undefined ? { ':a': S(pad(filter.openedAfter)) } : {}),
                  ...(filter.service !== undefined ? { ':s': S(filter.service) } : {}),
                  ...(filter.place ? { ':acc': S(filter.place.account), ':reg': S(filter.place.region) } : {}),
                },
                ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND '), ...(filter.place ? { ExpressionAttributeNames: { '#acc': 'account', '#reg': 'region' } } : {}) } : {}),
                ScanIndexForward: false,
                Limit: Math.min(1000, limit),
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
              o,
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
        const inc = needsParts(item) ? await readIncident(this.client, this.table, str(item, 'id'), signal) : incidentOf(item, []);
        if (inc) out.push(inc);
      }
      return out;
    });
  }

  countIncidentsByState(filter: { readonly states?: readonly IncidentState[] } = {}, opts?: StoreCallOptions): Promise<Partial<Record<IncidentState, number>>> {
    const signal = opts?.signal;
    return guarded('dynamodb.countIncidentsByState', signal, async () => {
      const counts: Partial<Record<IncidentState, number>> = {};
      for (const state of new Set(filter.states ?? INCIDENT_STATES)) {
        let n = 0;
        let start: Item | undefined;
        do {
          const out = await dynamoCall('dynamodb.Query(count by state)', signal, (o) =>
            this.client.send(
              new QueryCommand({ TableName: this.table, IndexName: BY_STATE_INDEX, KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': S(`STATE#${state}`) }, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }),
              o,
            ),
          );
          n += out.Count ?? 0;
          start = out.LastEvaluatedKey;
        } while (start);
        if (n > 0) counts[state] = n;
      }
      return counts;
    });
  }

  updateIncident(next: Incident, audit: AuditInput, fence?: LeaseFence, opts?: UpdateOptions): Promise<void> {
    const signal = opts?.signal;
    return guarded('dynamodb.updateIncident', signal, async () => {
      const cur = await dynamoCall('dynamodb.GetItem(incident)', signal, (o) =>
        this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK_INCIDENT + next.id, 'META'), ConsistentRead: true, ProjectionExpression: 'version, parts' }), o),
      );
      const version = cur.Item ? num(cur.Item, 'version') : null;
      if (version !== next.version - 1) throw new StoreConflictError(next.id, next.version - 1, version);
      const all = incidentWrite(this.table, next, { previous: version, oldParts: cur.Item?.['parts'] ? num(cur.Item, 'parts') : 0, expiresAt: this.expiryOf(next) });
      // A fenced write (an execution step's claim) lands only while its token is the lease's current one, not
      // released: a condition check on the lease item inside the same transaction as the write and its audit.
      const fenceAt = fence ? all.length : -1;
      if (fence) {
        all.push({
          ConditionCheck: {
            TableName: this.table,
            Key: key(`LEASE#${fence.lease}`, 'LEASE'),
            ConditionExpression: '#t = :t AND #o <> :none AND expiresAt > :zero',
            ExpressionAttributeNames: { '#t': 'token', '#o': 'owner' },
            ExpressionAttributeValues: { ':t': N(fence.token), ':none': S(''), ':zero': N(0) },
          },
        });
      }
      // The hour's step budget is a conditional counter in the same transaction: a spent budget refuses the claim.
      const budget = opts?.budget;
      const budgetAt = budget ? all.length : -1;
      if (budget) {
        const hour = hourBucket(budget.at);
        all.push({
          Update: {
            TableName: this.table,
            Key: key(BUDGET_PK, pad(hour)),
            UpdateExpression: 'ADD used :one SET #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(used) OR used < :max',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':one': N(1), ':max': N(budget.max), ':ttl': ttlAt((hour + 2 * DAY) as EpochMs) },
          },
        });
      }
      await this.audit.write('dynamodb.updateIncident', audit, all, async (failed) => {
        if (fence && failed.includes(fenceAt)) throw new StaleFencingTokenError(fence.lease, fence.token, (await this.readLease(fence.lease, signal))?.token ?? null);
        if (budget && failed.includes(budgetAt)) throw new StepBudgetSpentError(hourBucket(budget.at), await this.stepsInHour(budget.at, opts), budget.max);
        throw new StoreConflictError(next.id, next.version - 1, await this.readVersion(next.id, signal));
      }, undefined, signal);
    });
  }

  stepsInHour(at: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return guarded('dynamodb.stepsInHour', opts?.signal, async () => {
      const out = await dynamoCall('dynamodb.GetItem(step budget)', opts?.signal, (o) =>
        this.client.send(new GetItemCommand({ TableName: this.table, Key: key(BUDGET_PK, pad(hourBucket(at))), ConsistentRead: true }), o),
      );
      return out.Item?.['used'] ? num(out.Item, 'used') : 0;
    });
  }

  private async readVersion(id: string, signal?: AbortSignal): Promise<number | null> {
    const out = await dynamoCall('dynamodb.GetItem(incident version)', signal, (o) =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK_INCIDENT + id, 'META'), ConsistentRead: true, ProjectionExpression: 'version' }), o),
    );
    return out.Item ? num(out.Item, 'version') : null;
  }

  addDecision(decision: Decision, audit: AuditInput, opts?: StoreCallOptions): Promise<DecisionWrite> {
    const signal = opts?.signal;
    return guarded('dynamodb.addDecision', signal, async () => {
      const k = key(PK_INCIDENT + decision.incidentId, `DEC#${decision.runbookHash}#${decision.approver}`);
      const put: TransactWriteItem = { Put: { TableName: this.table, Item: { ...k, at: N(decision.at), doc: S(JSON.stringify(decision)) }, ConditionExpression: 'attribute_not_exists(pk)' } };
      return this.audit.write<DecisionWrite>('dynamodb.addDecision', audit, [put], async () => {
        const out = await dynamoCall('dynamodb.GetItem(decision)', signal, (o) => this.client.send(new GetItemCommand({ TableName: this.table, Key: k, ConsistentRead: true }), o));
        if (!out.Item) throw new StoreUnavailableError(`dynamodb.addDecision: decision of ${decision.approver} on ${decision.incidentId} refused as existing but not found; try again`, true);
        return { added: false, existing: JSON.parse(str(out.Item, 'doc')) as Decision };
      }, { added: true }, signal);
    });
  }

  listDecisions(incidentId: string, opts?: StoreCallOptions): Promise<Decision[]> {
    return guarded('dynamodb.listDecisions', opts?.signal, async () => {
      const items = await queryPrefix(this.client, this.table, PK_INCIDENT + incidentId, 'DEC#', opts?.signal);
      const out = items.map((i) => JSON.parse(str(i, 'doc')) as Decision);
      return out.sort((a, b) => a.at - b.at || (a.approver < b.approver ? -1 : a.approver > b.approver ? 1 : 0));
    });
  }

  appendAudit(entry: AuditInput, opts?: StoreCallOptions): Promise<AuditRecord> {
    return guarded('dynamodb.appendAudit', opts?.signal, () => this.audit.append(entry, opts?.signal));
  }

  listAudit(filter: { readonly incidentId?: string; readonly limit?: number } = {}, opts?: StoreCallOptions): Promise<AuditRecord[]> {
    return guarded('dynamodb.listAudit', opts?.signal, () => this.audit.list(filter, opts?.signal));
  }

  async verifyAudit(opts?: StoreCallOptions): Promise<AuditVerification> {
    const v = await this.verifyAnchoredAudit(opts);
    return v.ok ? { ok: true, records: v.records } : { ok: false, records: v.records, firstBadSeq: v.firstBadSeq, problem: v.problem };
  }

  /** Every chain with its head, and the signed global checkpoint (for `cloudops audit verify`). */
  verifyAnchoredAudit(opts?: StoreCallOptions): Promise<AnchoredVerification> {
    return guarded('dynamodb.verifyAudit', opts?.signal, () => this.audit.verify(opts?.signal));
  }

  /** Writes the global audit checkpoint now (writes do it by themselves every `globalCheckpointEveryMs`). */
  checkpointAudit(at: EpochMs, opts?: StoreCallOptions): Promise<void> {
    return guarded('dynamodb.checkpointAudit', opts?.signal, () => this.audit.checkpointGlobal(at, opts?.signal));
  }

  countStepsSince(since: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return guarded('dynamodb.countStepsSince', opts?.signal, () => this.audit.countStepsSince(since, opts?.signal));
  }

  addSilence(s: Silence, audit: AuditInput, opts?: StoreCallOptions): Promise<void> {
    return guarded('dynamodb.addSilence', opts?.signal, () => this.silences.add(s, audit, opts?.signal));
  }

  listSilences(opts?: StoreCallOptions): Promise<Silence[]> {
    return guarded('dynamodb.listSilences', opts?.signal, () => this.silences.list(opts?.signal));
  }

  expireSilence(id: string, at: EpochMs, audit: AuditInput, opts?: StoreCallOptions): Promise<boolean> {
    return guarded('dynamodb.expireSilence', opts?.signal, () => this.silences.expire(id, at, audit, opts?.signal));
  }

  getValue<T>(k: string, opts?: StoreCallOptions): Promise<T | null> {
    return guarded('dynamodb.getValue', opts?.signal, async () => (await this.values.read<T>(k, opts?.signal))?.value ?? null);
  }

  getValueVersioned<T>(k: string, opts?: StoreCallOptions): Promise<VersionedValue<T> | null> {
    return guarded('dynamodb.getValueVersioned', opts?.signal, () => this.values.read<T>(k, opts?.signal));
  }

  compareAndSetValue<T>(k: string, expectedVersion: number | null, value: T, opts?: StoreCallOptions): Promise<CasResult<T>> {
    return guarded('dynamodb.compareAndSetValue', opts?.signal, () => this.values.compareAndSet(k, expectedVersion, value, opts?.signal));
  }

  setValue(k: string, value: unknown, opts?: StoreCallOptions): Promise<void> {
    return guarded('dynamodb.setValue', opts?.signal, () => this.values.set(k, value, opts?.signal));
  }

  /** Atomic per transaction of up to 100 values (and 3.5 MB); more are written in several. */
  setValues(entries: Readonly<Record<string, unknown>>, opts?: StoreCallOptions): Promise<void> {
    return guarded('dynamodb.setValues', opts?.signal, () => this.values.setMany(entries, opts?.signal));
  }

  getValues<T>(keys: readonly string[], opts?: StoreCallOptions): Promise<Map<string, T>> {
    return guarded('dynamodb.getValues', opts?.signal, () => this.values.getMany<T>(keys, opts?.signal));
  }

  acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    return guarded('dynamodb.acquireLease', signal, () => this.leases.acquireLease(name, owner, now, ttlMs, signal));
  }

  releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean> {
    return guarded('dynamodb.releaseLease', signal, () => this.leases.releaseLease(name, owner, token, signal));
  }

  readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    return guarded('dynamodb.readLease', signal, () => this.leases.readLease(name, signal));
  }

  /** Nothing to do by hand: ended incidents carry a TTL (`endedIncidentRetentionMs`) and DynamoDB deletes them. */
  /** Ended incidents expire by TTL; audit records past `auditRetentionMs` are removed under signed summaries. */
  maintain(now: EpochMs, opts?: StoreCallOptions): Promise<MaintenanceReport> {
    return guarded('dynamodb.maintain', opts?.signal, async () => {
      const audit = this.auditRetentionMs === null ? { removed: 0 } : await this.retention.run(now, this.auditRetentionMs, opts?.signal);
      return { archived: 0, auditRemoved: audit.removed, walBytesBefore: null, walBytesAfter: null };
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}

const BUDGET_PK = 'BUDGET';

