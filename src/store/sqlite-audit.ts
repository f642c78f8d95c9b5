import type Database from 'better-sqlite3';
import type { EpochMs } from '../core/time.js';
import { chainRecord, GENESIS_HASH, signCheckpoint, signSummary, verifyAnchored, type AnchoredVerification, type AuditCheckpoint, type AuditSummary } from './audit-chain.js';
import { StoreRejectedError } from './errors.js';
import type { AuditInput, AuditRecord } from './store.js';

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

/** SQLite keeps one chain; a summary names it so a DynamoDB per-incident summary cannot be mistaken for it. */
export const SQLITE_CHAIN = 'sqlite';

/** What one `prune` removed: records 1..through (and the summary that now stands for them), or nothing. */
export interface AuditPruneReport {
  readonly removed: number;
  readonly through: number | null;
}

/**
 * The audit trail on SQLite: one hash chain in the `audit` table, its head anchored by a signed
 * checkpoint written in every record's transaction, and, once old records were removed past their
 * retention, a signed summary of the last one removed (the chain then starts after it). Synchronous:
 * the SqliteStore wraps every call; `append` runs inside the caller's write transaction.
 */
export class SqliteAudit {
  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer | null,
  ) {}

  /** Call inside a write transaction: the record and the checkpoint of the new head land together. */
  append(entry: AuditInput): AuditRecord {
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    // A trail whose every record was removed cannot happen (the head is always kept), but the summary is where it would go on.
    const start = last ?? this.summary() ?? { seq: 0, hash: GENESIS_HASH };
    const rec = chainRecord(start.seq + 1, start.hash, entry);
    this.db
      .prepare('INSERT INTO audit (seq, at, incident_id, kind, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(rec.seq, rec.at, rec.incidentId, rec.kind, rec.actor, JSON.stringify(rec.data), rec.prevHash, rec.hash);
    // Same transaction as the record: the anchored head always equals the last record.
    const cp = signCheckpoint(this.key, { seq: rec.seq, hash: rec.hash, at: rec.at });
    this.db.prepare('INSERT INTO audit_checkpoint (id, doc) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc').run(JSON.stringify(cp));
    return rec;
  }

  list(filter: { readonly incidentId?: string; readonly limit?: number }): AuditRecord[] {
    const rows = (
      filter.incidentId
        ? this.db.prepare('SELECT * FROM audit WHERE incident_id = ? ORDER BY seq LIMIT ?').all(filter.incidentId, filter.limit ?? 10_000)
        : this.db.prepare('SELECT * FROM audit ORDER BY seq LIMIT ?').all(filter.limit ?? 10_000)
    ) as AuditRow[];
    return rows.map(toRecord);
  }

  /** The chain from the genesis or from the summary of removed records, its head checkpoint, and an empty trail where incidents exist. */
  verify(): AnchoredVerification {
    const incidents = (this.db.prepare('SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM incidents_archive) AS n').get() as { n: number }).n;
    const checkpoint = this.checkpoint();
    const summary = this.summary();
    const rows = this.db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
    const records = (function* () {
      for (const r of rows) yield toRecord(r);
    })();
    try {
      return verifyAnchored(records, checkpoint, this.key, incidents, summary);
    } finally {
      // A walk that stopped early (a bad summary, a broken link) must still release the statement.
      rows.return?.();
    }
  }

  checkpoint(): AuditCheckpoint | null {
    const row = this.db.prepare('SELECT doc FROM audit_checkpoint WHERE id = 1').get() as { doc: string } | undefined;
    return row ? parseCheckpoint(row.doc) : null;
  }

  /** The signed summary of the records removed so far, or null when none were. */
  summary(): AuditSummary | null {
    const row = this.db.prepare('SELECT doc FROM audit_summary WHERE id = 1').get() as { doc: string } | undefined;
    if (!row) return null;
    const cp = parseCheckpoint(row.doc);
    let chain = 'malformed';
    try {
      const v = JSON.parse(row.doc) as { chain?: unknown };
      if (typeof v.chain === 'string') chain = v.chain;
    } catch {
      // parseCheckpoint already marked it malformed: its signature cannot verify.
    }
    return { ...cp, chain };
  }

  countStepsSince(since: EpochMs): number {
    return (this.db.prepare("SELECT count(*) AS n FROM audit WHERE kind = 'step.started' AND at >= ?").get(since) as { n: number }).n;
  }

  /**
   * Removes the oldest records written before `before`, as one prefix of the chain, and in the same
   * transaction writes the signed summary of the last one removed. The prefix stops at the first record
   * of an incident that is still listed (only archived incidents' records go, and records of no
   * incident), and never takes the head (the checkpoint names it). Refused without a key: an unsigned
   * summary would let anyone cut the start of the trail. The step-budget count reads only the last hour.
   */
  prune(before: EpochMs, at: EpochMs): AuditPruneReport {
    if (!this.key) throw new StoreRejectedError('audit records can be removed only under a signed summary: set CLOUDOPS_AUDIT_KEY (nothing was removed)');
    const key = this.key;
    return this.db.transaction((): AuditPruneReport => {
      const head = this.db.prepare('SELECT max(seq) AS seq FROM audit').get() as { seq: number | null };
      if (head.seq === null) return { removed: 0, through: null };
      // The first record that must stay: too recent, of a listed incident, or the head.
      const stop = this.db
        .prepare('SELECT min(seq) AS seq FROM audit WHERE at >= ? OR incident_id IN (SELECT id FROM incidents)')
        .get(before) as { seq: number | null };
      const keepFrom = Math.min(stop.seq ?? head.seq, head.seq);
      const last = this.db.prepare('SELECT seq, hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(keepFrom) as { seq: number; hash: string } | undefined;
      if (!last) return { removed: 0, through: null };
      const summary = signSummary(key, { chain: SQLITE_CHAIN, seq: last.seq, hash: last.hash, at });
      // The summary first: the delete trigger lets through only records the summary covers.
      this.db.prepare('INSERT INTO audit_summary (id, seq, doc) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, doc = excluded.doc').run(summary.seq, JSON.stringify(summary));
      const removed = this.db.prepare('DELETE FROM audit WHERE seq <= ?').run(last.seq).changes;
      return { removed, through: last.seq };
    }).immediate();
  }
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
