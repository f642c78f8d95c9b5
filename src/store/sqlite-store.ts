import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import type { LeaseFence, LeaseRecord, LeaseResult } from './lease.js';
import { AUDIT_KEY_ENV, auditKeyFrom, type AnchoredVerification, type AuditCheckpoint, type AuditSummary } from './audit-chain.js';
import { StoreConflictError } from './errors.js';
import { checkSignal, toStoreError } from './sqlite-errors.js';
import { SqliteAudit, type AuditPruneReport } from './sqlite-audit.js';
import { SqliteBudget } from './sqlite-budget.js';
import { SqliteLeases } from './sqlite-lease.js';
import { openSqlite } from './sqlite-schema.js';
import { SqliteSilences } from './sqlite-silences.js';
import { SqliteValues } from './sqlite-values.js';
import type {
  AuditInput,
  AuditRecord,
  AuditVerification,
  CasResult,
  DecisionWrite,
  IncidentFilter,
  MaintenanceReport,
  Silence,
  Store,
  StoreCallOptions,
  UpdateOptions,
  VersionedValue,
} from './store.js';
import { TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';

export interface SqliteStoreOptions {
  /**
   * The key that signs audit checkpoints (never stored in the database). Default: the
   * CLOUDOPS_AUDIT_KEY environment variable; null or unset writes unsigned checkpoints, which still
   * catch a cut-off trail but not a rewritten checkpoint.
   */
  readonly auditKey?: Buffer | null;
  /**
   * Ended incidents whose last write is older than this move to the archive table at `maintain` (out of
   * every listing; getIncident still finds them; their audit records stay, so the trail verifies).
   * Default null: kept in place.
   */
  readonly endedRetentionMs?: number | null;
  /**
   * Audit records older than this are removed at `maintain`, under a signed summary of the last one
   * removed (only records of archived incidents and of no incident; needs the audit key). Default null: kept.
   */
  readonly auditRetentionMs?: number | null;
}


/**
 * The Store on one SQLite file in WAL mode. Writes are synchronous IMMEDIATE transactions (the write lock is
 * taken at BEGIN, so a second process on the same file waits up to busy_timeout instead of failing with
 * "database is locked" when its read snapshot went stale); the port is async for DynamoDB.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly endedRetentionMs: number | null;
  private readonly auditRetentionMs: number | null;
  private readonly audit: SqliteAudit;
  private readonly values: SqliteValues;
  private readonly leases: SqliteLeases;
  private readonly silences: SqliteSilences;
  private readonly budget: SqliteBudget;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.endedRetentionMs = options.endedRetentionMs ?? null;
    this.auditRetentionMs = options.auditRetentionMs ?? null;
    // The composition root should pass the key; the environment default keeps every caller signing.
    const auditKey = options.auditKey !== undefined ? options.auditKey : auditKeyFrom(process.env[AUDIT_KEY_ENV]);
    this.db = openSqlite(path);
    this.audit = new SqliteAudit(this.db, auditKey);
    this.values = new SqliteValues(this.db);
    this.leases = new SqliteLeases(this.db);
    this.silences = new SqliteSilences(this.db, (e) => this.audit.append(e));
    this.budget = new SqliteBudget(this.db);
  }

  /** Every method's body: the signal checked before any work, the driver's errors translated. */
  private run<T>(operation: string, opts: StoreCallOptions | undefined, fn: () => T): Promise<T> {
    try {
      checkSignal(opts?.signal, `sqlite.${operation}`);
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(toStoreError(err, `sqlite.${operation}`));
    }
  }

  createIncident(incident: Incident, audit: AuditInput, opts?: StoreCallOptions): Promise<void> {
    return this.run('createIncident', opts, () =>
      this.db.transaction(() => {
        const cur = (this.db.prepare('SELECT version FROM incidents WHERE id = ?').get(incident.id) ?? this.db.prepare('SELECT version FROM incidents_archive WHERE id = ?').get(incident.id)) as
          | { version: number }
          | undefined;
        if (cur) throw new StoreConflictError(incident.id, 0, cur.version);
        this.db
          .prepare('INSERT INTO incidents (id, service, state, version, opened_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(incident.id, incident.service, incident.state, incident.version, incident.openedAt, incident.updatedAt, JSON.stringify(incident));
        this.audit.append(audit);
      }).immediate(),
    );
  }

  getIncident(id: string, opts?: StoreCallOptions): Promise<Incident | null> {
    return this.run('getIncident', opts, () => {
      const row = (this.db.prepare('SELECT doc FROM incidents WHERE id = ?').get(id) ?? this.db.prepare('SELECT doc FROM incidents_archive WHERE id = ?').get(id)) as { doc: string } | undefined;
      return row ? (JSON.parse(row.doc) as Incident) : null;
    });
  }

  listIncidents(filter: IncidentFilter = {}, opts?: StoreCallOptions): Promise<Incident[]> {
    return this.run('listIncidents', opts, () => this.listIncidentsSync(filter));
  }

  countIncidentsByState(filter: { readonly states?: readonly IncidentState[] } = {}, opts?: StoreCallOptions): Promise<Partial<Record<IncidentState, number>>> {
    return this.run('countIncidentsByState', opts, () => {
      const only = filter.states ? `WHERE state IN (${filter.states.map(() => '?').join(',') || "''"})` : '';
      const rows = this.db.prepare(`SELECT state, count(*) AS n FROM incidents ${only} GROUP BY state`).all(...(filter.states ?? [])) as { state: IncidentState; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    });
  }

  private listIncidentsSync(filter: IncidentFilter): Incident[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.states) {
      where.push(`state IN (${filter.states.map(() => '?').join(',') || "''"})`);
      args.push(...filter.states);
    }
    if (filter.service) {
      where.push('service = ?');
      args.push(filter.service);
    }
    if (filter.openedAfter !== undefined) {
      where.push('opened_at >= ?');
      args.push(filter.openedAfter);
    }
    if (filter.place) {
      const p = filter.place;
      where.push("coalesce(json_extract(doc, '$.account'), ?) = ? AND coalesce(json_extract(doc, '$.region'), ?) = ?");
      args.push(p.home.name, p.account, p.home.region, p.region);
    }
    const sql = `SELECT doc FROM incidents ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, filter.limit ?? 1000) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as Incident);
  }

  updateIncident(next: Incident, audit: AuditInput, fence?: LeaseFence, opts?: UpdateOptions): Promise<void> {
    return this.run('updateIncident', opts, () => this.updateIncidentSync(next, audit, fence, opts));
  }

  private updateIncidentSync(next: Incident, audit: AuditInput, fence: LeaseFence | undefined, opts: UpdateOptions | undefined): void {
    this.db.transaction(() => {
      // The fence is read in the write's transaction (BEGIN IMMEDIATE: no other process writes between).
      if (fence) this.leases.checkFence(fence);
      const res = this.db
        .prepare('UPDATE incidents SET state = ?, version = ?, updated_at = ?, doc = ? WHERE id = ? AND version = ?')
        .run(next.state, next.version, next.updatedAt, JSON.stringify(next), next.id, next.version - 1);
      if (res.changes !== 1) {
        const cur = this.db.prepare('SELECT version FROM incidents WHERE id = ?').get(next.id) as { version: number } | undefined;
        throw new StoreConflictError(next.id, next.version - 1, cur?.version ?? null);
      }
      // Spent in the claim's transaction: a refused budget rolls the incident write back with it.
      if (opts?.budget) this.budget.spend(opts.budget.at, opts.budget.max);
      this.audit.append(audit);
    }).immediate();
  }

  stepsInHour(at: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return this.run('stepsInHour', opts, () => this.budget.used(at));
  }

  acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    return this.run('acquireLease', { signal }, () => this.leases.acquire(name, owner, now, ttlMs));
  }

  releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean> {
    return this.run('releaseLease', { signal }, () => this.leases.release(name, owner, token));
  }

  readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    return this.run('readLease', { signal }, () => this.leases.read(name));
  }

  addDecision(decision: Decision, audit: AuditInput, opts?: StoreCallOptions): Promise<DecisionWrite> {
    return this.run('addDecision', opts, () =>
      this.db.transaction((): DecisionWrite => {
        const res = this.db
          .prepare('INSERT OR IGNORE INTO decisions (incident_id, approver, runbook_hash, verdict, at, doc) VALUES (?, ?, ?, ?, ?, ?)')
          .run(decision.incidentId, decision.approver, decision.runbookHash, decision.verdict, decision.at, JSON.stringify(decision));
        if (res.changes === 0) {
          const row = this.db
            .prepare('SELECT doc FROM decisions WHERE incident_id = ? AND approver = ? AND runbook_hash = ?')
            .get(decision.incidentId, decision.approver, decision.runbookHash) as { doc: string };
          return { added: false, existing: JSON.parse(row.doc) as Decision };
        }
        this.audit.append(audit);
        return { added: true };
      }).immediate(),
    );
  }

  listDecisions(incidentId: string, opts?: StoreCallOptions): Promise<Decision[]> {
    return this.run('listDecisions', opts, () => {
      const rows = this.db.prepare('SELECT doc FROM decisions WHERE incident_id = ? ORDER BY at, approver').all(incidentId) as { doc: string }[];
      return rows.map((r) => JSON.parse(r.doc) as Decision);
    });
  }

  appendAudit(entry: AuditInput, opts?: StoreCallOptions): Promise<AuditRecord> {
    return this.run('appendAudit', opts, () => this.db.transaction(() => this.audit.append(entry)).immediate());
  }

  listAudit(filter: { incidentId?: string; limit?: number } = {}, opts?: StoreCallOptions): Promise<AuditRecord[]> {
    return this.run('listAudit', opts, () => this.audit.list(filter));
  }

  async verifyAudit(opts?: StoreCallOptions): Promise<AuditVerification> {
    const v = await this.verifyAnchoredAudit(opts);
    return v.ok ? { ok: true, records: v.records } : { ok: false, records: v.records, firstBadSeq: v.firstBadSeq, problem: v.problem };
  }

  /** The chain (from the genesis, or from the signed summary of removed records), its signed checkpoint, and an empty trail where incidents exist. */
  verifyAnchoredAudit(opts?: StoreCallOptions): Promise<AnchoredVerification> {
    return this.run('verifyAudit', opts, () => this.audit.verify());
  }

  /** The stored checkpoint of the audit head, or null (for publishing to an `AuditCheckpointSink`). */
  auditCheckpoint(opts?: StoreCallOptions): Promise<AuditCheckpoint | null> {
    return this.run('auditCheckpoint', opts, () => this.audit.checkpoint());
  }

  /** The signed summary of audit records removed past retention, or null when none were. */
  auditSummary(opts?: StoreCallOptions): Promise<AuditSummary | null> {
    return this.run('auditSummary', opts, () => this.audit.summary());
  }

  /** Removes audit records written before `before` under a signed summary (see SqliteAudit.prune). */
  pruneAudit(before: EpochMs, at: EpochMs, opts?: StoreCallOptions): Promise<AuditPruneReport> {
    return this.run('pruneAudit', opts, () => this.audit.prune(before, at));
  }

  countStepsSince(since: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return this.run('countStepsSince', opts, () => this.audit.countStepsSince(since));
  }

  addSilence(s: Silence, audit: AuditInput, opts?: StoreCallOptions): Promise<void> {
    return this.run('addSilence', opts, () => this.silences.add(s, audit));
  }

  listSilences(opts?: StoreCallOptions): Promise<Silence[]> {
    return this.run('listSilences', opts, () => this.silences.list());
  }

  expireSilence(id: string, at: EpochMs, audit: AuditInput, opts?: StoreCallOptions): Promise<boolean> {
    return this.run('expireSilence', opts, () => this.silences.expire(id, at, audit));
  }

  getValue<T>(key: string, opts?: StoreCallOptions): Promise<T | null> {
    return this.run('getValue', opts, () => this.values.get<T>(key));
  }

  getValueVersioned<T>(key: string, opts?: StoreCallOptions): Promise<VersionedValue<T> | null> {
    return this.run('getValueVersioned', opts, () => this.values.getVersioned<T>(key));
  }

  compareAndSetValue<T>(key: string, expectedVersion: number | null, value: T, opts?: StoreCallOptions): Promise<CasResult<T>> {
    return this.run('compareAndSetValue', opts, () => this.values.compareAndSet(key, expectedVersion, value));
  }

  setValue(key: string, value: unknown, opts?: StoreCallOptions): Promise<void> {
    return this.run('setValue', opts, () => this.values.set(key, value));
  }

  setValues(entries: Readonly<Record<string, unknown>>, opts?: StoreCallOptions): Promise<void> {
    return this.run('setValues', opts, () => this.values.setMany(entries));
  }

  getValues<T>(keys: readonly string[], opts?: StoreCallOptions): Promise<Map<string, T>> {
    return this.run('getValues', opts, () => this.values.getMany<T>(keys));
  }

  /**
   * Bounded growth, once in a while (the daemon calls it every few minutes): ended incidents past the
   * retention move to the archive table, audit records past theirs are removed under a signed summary
   * (when `auditRetentionMs` is set), and the WAL is checkpointed and truncated (SQLite never shrinks
   * it by itself while a reader is often open).
   */
  maintain(now: EpochMs, opts?: StoreCallOptions): Promise<MaintenanceReport> {
    return this.run('maintain', opts, () => {
      let archived = 0;
      if (this.endedRetentionMs !== null) {
        const before = now - this.endedRetentionMs;
        const states = [...TERMINAL_STATES];
        const marks = states.map(() => '?').join(', ');
        archived = this.db.transaction(() => {
          this.db
            .prepare(`INSERT INTO incidents_archive (id, service, state, version, opened_at, updated_at, doc, archived_at) SELECT id, service, state, version, opened_at, updated_at, doc, ? FROM incidents WHERE state IN (${marks}) AND updated_at < ?`)
            .run(now, ...states, before);
          return this.db.prepare(`DELETE FROM incidents WHERE state IN (${marks}) AND updated_at < ?`).run(...states, before).changes;
        }).immediate();
      }
      // After archiving: the records of incidents archived just now may go in the same pass.
      const auditRemoved = this.auditRetentionMs === null ? 0 : this.audit.prune((now - this.auditRetentionMs) as EpochMs, now).removed;
      const walBytesBefore = this.walBytes();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      return { archived, auditRemoved, walBytesBefore, walBytesAfter: this.walBytes() };
    });
  }

  private walBytes(): number | null {
    if (this.path === ':memory:') return null;
    try {
      return statSync(`${this.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

