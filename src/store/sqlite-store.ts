import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import { StaleFencingTokenError, type LeaseFence, type LeaseRecord, type LeaseResult } from './lease.js';
import { AUDIT_KEY_ENV, auditKeyFrom, chainRecord, GENESIS_HASH, signCheckpoint, verifyAnchored, type AnchoredVerification, type AuditCheckpoint } from './audit-chain.js';
import { StepBudgetSpentError, StoreConflictError, StoreRejectedError } from './errors.js';
import { checkSignal, toStoreError } from './sqlite-errors.js';
import {
  hourBucket,
  type AuditInput,
  type AuditRecord,
  type AuditVerification,
  type CasResult,
  type DecisionWrite,
  type IncidentFilter,
  type MaintenanceReport,
  type Silence,
  type Store,
  type StoreCallOptions,
  type UpdateOptions,
  type VersionedValue,
} from './store.js';
import { TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state);
CREATE INDEX IF NOT EXISTS incidents_state_opened ON incidents(state, opened_at);
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents(opened_at);
CREATE TABLE IF NOT EXISTS incidents_archive (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL, archived_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_ended ON incidents(updated_at) WHERE state IN (${[...TERMINAL_STATES].map((st) => `'${st}'`).join(', ')});
CREATE TABLE IF NOT EXISTS decisions (
  incident_id TEXT NOT NULL, approver TEXT NOT NULL, runbook_hash TEXT NOT NULL, verdict TEXT NOT NULL,
  at INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (incident_id, approver, runbook_hash));
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, incident_id TEXT, kind TEXT NOT NULL, actor TEXT NOT NULL,
  data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_incident ON audit(incident_id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, ends_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS step_budget (hour_start INTEGER PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, token INTEGER NOT NULL CHECK (token > 0),
  expires_at INTEGER NOT NULL, acquired_at INTEGER NOT NULL);
`;

interface LeaseRow {
  name: string;
  owner: string;
  token: number;
  expires_at: number;
  acquired_at: number;
}

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
}


interface AuditRow {
  seq: number;
  at: number;
  incident_id: string | null;
  kind: string;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

/**
 * The Store on one SQLite file in WAL mode. Writes are synchronous IMMEDIATE transactions (the write lock is
 * taken at BEGIN, so a second process on the same file waits up to busy_timeout instead of failing with
 * "database is locked" when its read snapshot went stale); the port is async for DynamoDB.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly auditKey: Buffer | null;
  private readonly path: string;
  private readonly endedRetentionMs: number | null;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.endedRetentionMs = options.endedRetentionMs ?? null;
    // The composition root should pass the key; the environment default keeps every caller signing.
    this.auditKey = options.auditKey !== undefined ? options.auditKey : auditKeyFrom(process.env[AUDIT_KEY_ENV]);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Stores made before compare-and-set: every existing value starts at version 1.
    const kvCols = this.db.prepare('PRAGMA table_info(kv)').all() as { name: string }[];
    if (!kvCols.some((c) => c.name === 'version')) this.db.exec('ALTER TABLE kv ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
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

  private appendAuditSync(entry: AuditInput): AuditRecord {
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const rec = chainRecord((last?.seq ?? 0) + 1, last?.hash ?? GENESIS_HASH, entry);
    this.db
      .prepare('INSERT INTO audit (seq, at, incident_id, kind, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(rec.seq, rec.at, rec.incidentId, rec.kind, rec.actor, JSON.stringify(rec.data), rec.prevHash, rec.hash);
    // Same transaction as the record: the anchored head always equals the last record.
    const cp = signCheckpoint(this.auditKey, { seq: rec.seq, hash: rec.hash, at: rec.at });
    this.db.prepare('INSERT INTO audit_checkpoint (id, doc) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc').run(JSON.stringify(cp));
    return rec;
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
        this.appendAuditSync(audit);
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
      if (fence) this.checkFenceSync(fence);
      const res = this.db
        .prepare('UPDATE incidents SET state = ?, version = ?, updated_at = ?, doc = ? WHERE id = ? AND version = ?')
        .run(next.state, next.version, next.updatedAt, JSON.stringify(next), next.id, next.version - 1);
      if (res.changes !== 1) {
        const cur = this.db.prepare('SELECT version FROM incidents WHERE id = ?').get(next.id) as { version: number } | undefined;
        throw new StoreConflictError(next.id, next.version - 1, cur?.version ?? null);
      }
      // Spent in the claim's transaction: a refused budget rolls the incident write back with it.
      if (opts?.budget) this.spendBudgetSync(opts.budget.at, opts.budget.max);
      this.appendAuditSync(audit);
    }).immediate();
  }

  private spendBudgetSync(at: EpochMs, max: number): void {
    const hour = hourBucket(at);
    const used = (this.db.prepare('SELECT used FROM step_budget WHERE hour_start = ?').get(hour) as { used: number } | undefined)?.used ?? 0;
    if (used >= max) throw new StepBudgetSpentError(hour, used, max);
    this.db.prepare('INSERT INTO step_budget (hour_start, used) VALUES (?, 1) ON CONFLICT(hour_start) DO UPDATE SET used = used + 1').run(hour);
  }

  stepsInHour(at: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return this.run('stepsInHour', opts, () => (this.db.prepare('SELECT used FROM step_budget WHERE hour_start = ?').get(hourBucket(at)) as { used: number } | undefined)?.used ?? 0);
  }

  private checkFenceSync(fence: LeaseFence): void {
    const row = this.db.prepare('SELECT token, expires_at FROM leases WHERE name = ?').get(fence.lease) as { token: number; expires_at: number } | undefined;
    // A released lease (expires_at 0) fences too: its holder has stopped being the leader.
    if (!row || row.token !== fence.token || row.expires_at === 0) throw new StaleFencingTokenError(fence.lease, fence.token, row?.token ?? null);
  }

  async acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    checkLeaseArgs(name, owner);
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be a positive whole number of milliseconds, got ${ttlMs}`);
    if (!Number.isSafeInteger(now) || now < 0) throw new RangeError(`lease time must be epoch milliseconds, got ${now}`);
    const expiresAt = (now + ttlMs) as EpochMs;
    // BEGIN IMMEDIATE: the read and the compare-and-set hold the write lock, so two processes on one file serialise.
    return this.run('acquireLease', { signal }, () =>
      this.db.transaction((): LeaseResult => {
        const row = this.db.prepare('SELECT * FROM leases WHERE name = ?').get(name) as LeaseRow | undefined;
        if (!row) {
          this.db.prepare('INSERT INTO leases (name, owner, token, expires_at, acquired_at) VALUES (?, ?, 1, ?, ?)').run(name, owner, expiresAt, now);
          return { held: true, lease: { name, owner, token: 1, expiresAt, acquiredAt: now } };
        }
        if (row.owner === owner && row.expires_at > now) {
          this.db.prepare('UPDATE leases SET expires_at = ? WHERE name = ?').run(expiresAt, name);
          return { held: true, lease: { ...toLease(row), expiresAt } };
        }
        if (row.expires_at > now) return { held: false, holder: toLease(row) };
        // Free or expired (whoever held it, us included): a takeover, with a larger token than any before.
        const token = row.token + 1;
        this.db.prepare('UPDATE leases SET owner = ?, token = ?, expires_at = ?, acquired_at = ? WHERE name = ?').run(owner, token, expiresAt, now, name);
        return { held: true, lease: { name, owner, token, expiresAt, acquiredAt: now } };
      }).immediate(),
    );
  }

  async releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean> {
    checkLeaseArgs(name, owner);
    // The row stays (expired) so the next takeover's token is still larger than this one.
    return this.run('releaseLease', { signal }, () => this.db.prepare('UPDATE leases SET expires_at = 0 WHERE name = ? AND owner = ? AND token = ? AND expires_at > 0').run(name, owner, token).changes === 1);
  }

  readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null> {
    return this.run('readLease', { signal }, () => {
      const row = this.db.prepare('SELECT * FROM leases WHERE name = ?').get(name) as LeaseRow | undefined;
      // A released lease (expires_at 0) has no holder; its row stays only so the next token is larger.
      return row && row.expires_at !== 0 ? toLease(row) : null;
    });
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
        this.appendAuditSync(audit);
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
    return this.run('appendAudit', opts, () => this.db.transaction(() => this.appendAuditSync(entry)).immediate());
  }

  listAudit(filter: { incidentId?: string; limit?: number } = {}, opts?: StoreCallOptions): Promise<AuditRecord[]> {
    return this.run('listAudit', opts, () => {
      const rows = (
        filter.incidentId
          ? this.db.prepare('SELECT * FROM audit WHERE incident_id = ? ORDER BY seq LIMIT ?').all(filter.incidentId, filter.limit ?? 10_000)
          : this.db.prepare('SELECT * FROM audit ORDER BY seq LIMIT ?').all(filter.limit ?? 10_000)
      ) as AuditRow[];
      return rows.map(toRecord);
    });
  }

  async verifyAudit(opts?: StoreCallOptions): Promise<AuditVerification> {
    const v = await this.verifyAnchoredAudit(opts);
    return v.ok ? { ok: true, records: v.records } : { ok: false, records: v.records, firstBadSeq: v.firstBadSeq, problem: v.problem };
  }

  /** The chain, its signed checkpoint, and an empty trail where incidents exist. */
  verifyAnchoredAudit(opts?: StoreCallOptions): Promise<AnchoredVerification> {
    return this.run('verifyAudit', opts, () => {
      const incidents = (this.db.prepare('SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM incidents_archive) AS n').get() as { n: number }).n;
      const checkpoint = this.auditCheckpointSync();
      const rows = this.db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
      const records = (function* () {
        for (const r of rows) yield toRecord(r);
      })();
      return verifyAnchored(records, checkpoint, this.auditKey, incidents);
    });
  }

  /** The stored checkpoint of the audit head, or null (for publishing to an `AuditCheckpointSink`). */
  auditCheckpoint(opts?: StoreCallOptions): Promise<AuditCheckpoint | null> {
    return this.run('auditCheckpoint', opts, () => this.auditCheckpointSync());
  }

  private auditCheckpointSync(): AuditCheckpoint | null {
    const row = this.db.prepare('SELECT doc FROM audit_checkpoint WHERE id = 1').get() as { doc: string } | undefined;
    return row ? parseCheckpoint(row.doc) : null;
  }

  countStepsSince(since: EpochMs, opts?: StoreCallOptions): Promise<number> {
    return this.run('countStepsSince', opts, () => (this.db.prepare("SELECT count(*) AS n FROM audit WHERE kind = 'step.started' AND at >= ?").get(since) as { n: number }).n);
  }

  addSilence(s: Silence, audit: AuditInput, opts?: StoreCallOptions): Promise<void> {
    return this.run('addSilence', opts, () =>
      this.db.transaction(() => {
        if (this.db.prepare('SELECT 1 FROM silences WHERE id = ?').get(s.id)) throw new StoreRejectedError(`silence ${s.id} already exists (nothing was written)`);
        this.db.prepare('INSERT INTO silences (id, ends_at, doc) VALUES (?, ?, ?)').run(s.id, s.endsAt, JSON.stringify(s));
        this.appendAuditSync(audit);
      }).immediate(),
    );
  }

  listSilences(opts?: StoreCallOptions): Promise<Silence[]> {
    return this.run('listSilences', opts, () => (this.db.prepare('SELECT doc FROM silences ORDER BY ends_at').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as Silence));
  }

  expireSilence(id: string, at: EpochMs, audit: AuditInput, opts?: StoreCallOptions): Promise<boolean> {
    return this.run('expireSilence', opts, () =>
      this.db.transaction(() => {
        const row = this.db.prepare('SELECT doc FROM silences WHERE id = ?').get(id) as { doc: string } | undefined;
        if (!row) return false;
        const s = { ...(JSON.parse(row.doc) as Silence), endsAt: at };
        this.db.prepare('UPDATE silences SET ends_at = ?, doc = ? WHERE id = ?').run(at, JSON.stringify(s), id);
        this.appendAuditSync(audit);
        return true;
      }).immediate(),
    );
  }

  getValue<T>(key: string, opts?: StoreCallOptions): Promise<T | null> {
    return this.run('getValue', opts, () => {
      const row = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : null;
    });
  }

  getValueVersioned<T>(key: string, opts?: StoreCallOptions): Promise<VersionedValue<T> | null> {
    return this.run('getValueVersioned', opts, () => {
      const row = this.db.prepare('SELECT value, version FROM kv WHERE key = ?').get(key) as { value: string; version: number } | undefined;
      return row ? { value: JSON.parse(row.value) as T, version: row.version } : null;
    });
  }

  compareAndSetValue<T>(key: string, expectedVersion: number | null, value: T, opts?: StoreCallOptions): Promise<CasResult<T>> {
    return this.run('compareAndSetValue', opts, () => {
      const text = jsonOf(key, value);
      // One statement is atomic on the file: another process's write lands wholly before or after it.
      const res =
        expectedVersion === null
          ? this.db.prepare('INSERT OR IGNORE INTO kv (key, value, version) VALUES (?, ?, 1)').run(key, text)
          : this.db.prepare('UPDATE kv SET value = ?, version = version + 1 WHERE key = ? AND version = ?').run(text, key, expectedVersion);
      if (res.changes === 1) return { ok: true, version: (expectedVersion ?? 0) + 1 };
      const row = this.db.prepare('SELECT value, version FROM kv WHERE key = ?').get(key) as { value: string; version: number } | undefined;
      return { ok: false, current: row ? { value: JSON.parse(row.value) as T, version: row.version } : null };
    });
  }

  setValue(key: string, value: unknown, opts?: StoreCallOptions): Promise<void> {
    return this.run('setValue', opts, () => {
      this.db.prepare(UPSERT_KV).run(key, jsonOf(key, value));
    });
  }

  setValues(entries: Readonly<Record<string, unknown>>, opts?: StoreCallOptions): Promise<void> {
    return this.run('setValues', opts, () => {
      const rows = Object.entries(entries).map(([k, v]) => [k, jsonOf(k, v)] as const);
      const stmt = this.db.prepare(UPSERT_KV);
      this.db.transaction(() => {
        for (const [k, text] of rows) stmt.run(k, text);
      }).immediate();
    });
  }

  getValues<T>(keys: readonly string[], opts?: StoreCallOptions): Promise<Map<string, T>> {
    return this.run('getValues', opts, () => {
      const out = new Map<string, T>();
      const stmt = this.db.prepare('SELECT value FROM kv WHERE key = ?');
      for (const k of keys) {
        const row = stmt.get(k) as { value: string } | undefined;
        if (row) out.set(k, JSON.parse(row.value) as T);
      }
      return out;
    });
  }

  /**
   * Bounded growth, once in a while (the daemon calls it every few minutes): ended incidents past the
   * retention move to the archive table, and the WAL is checkpointed and truncated (SQLite never shrinks
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
      const walBytesBefore = this.walBytes();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      return { archived, walBytesBefore, walBytesAfter: this.walBytes() };
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

const UPSERT_KV = 'INSERT INTO kv (key, value, version) VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = kv.version + 1';

/** A value as stored; one JSON cannot represent (undefined, a BigInt, a cycle) is refused before any write. */
function jsonOf(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreRejectedError(`value ${key} cannot be stored as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new StoreRejectedError(`value ${key} cannot be stored as JSON (it is ${typeof value})`);
  return text;
}

function toLease(r: LeaseRow): LeaseRecord {
  return { name: r.name, owner: r.owner, token: r.token, expiresAt: r.expires_at as EpochMs, acquiredAt: r.acquired_at as EpochMs };
}

function checkLeaseArgs(name: string, owner: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new RangeError(`lease name must be 1-200 characters, got ${JSON.stringify(name)}`);
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) throw new RangeError(`lease owner must be 1-200 characters, got ${JSON.stringify(owner)}`);
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    seq: r.seq,
    at: r.at as EpochMs,
    incidentId: r.incident_id,
    kind: r.kind,
    actor: r.actor,
    data: JSON.parse(r.data) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A stored checkpoint; one that does not parse is kept as one whose signature cannot verify. */
function parseCheckpoint(doc: string): AuditCheckpoint {
  const malformed: AuditCheckpoint = { seq: 0, hash: '', at: 0, keyId: 'malformed', mac: 'malformed' };
  try {
    const v = JSON.parse(doc) as Partial<AuditCheckpoint> | null;
    if (!v || typeof v.seq !== 'number' || typeof v.hash !== 'string' || typeof v.at !== 'number') return malformed;
    return { seq: v.seq, hash: v.hash, at: v.at, keyId: typeof v.keyId === 'string' ? v.keyId : null, mac: typeof v.mac === 'string' ? v.mac : null };
  } catch {
    return malformed;
  }
}
