import type Database from 'better-sqlite3';
import type { EpochMs } from '../core/time.js';
import { StoreRejectedError } from './errors.js';
import type { AuditInput, AuditRecord, Silence } from './store.js';

/** Silences in the `silences` table; each write lands in one transaction with its audit record. */
export class SqliteSilences {
  constructor(
    private readonly db: Database.Database,
    private readonly audit: (entry: AuditInput) => AuditRecord,
  ) {}

  add(s: Silence, audit: AuditInput): void {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM silences WHERE id = ?').get(s.id)) throw new StoreRejectedError(`silence ${s.id} already exists (nothing was written)`);
      this.db.prepare('INSERT INTO silences (id, ends_at, doc) VALUES (?, ?, ?)').run(s.id, s.endsAt, JSON.stringify(s));
      this.audit(audit);
    }).immediate();
  }

  list(): Silence[] {
    return (this.db.prepare('SELECT doc FROM silences ORDER BY ends_at').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as Silence);
  }

  expire(id: string, at: EpochMs, audit: AuditInput): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT doc FROM silences WHERE id = ?').get(id) as { doc: string } | undefined;
      if (!row) return false;
      const s = { ...(JSON.parse(row.doc) as Silence), endsAt: at };
      this.db.prepare('UPDATE silences SET ends_at = ?, doc = ? WHERE id = ?').run(at, JSON.stringify(s), id);
      this.audit(audit);
      return true;
    }).immediate();
  }
}
