import type Database from 'better-sqlite3';
import { StoreRejectedError } from './errors.js';
import type { CasResult, VersionedValue } from './store.js';

const UPSERT_KV = 'INSERT INTO kv (key, value, version) VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = kv.version + 1';

/**
 * Small named JSON values (detector state, poll cursors, breaker and email-link records) in the `kv`
 * table, each with a version for compare-and-set. Synchronous: the SqliteStore wraps every call.
 */
export class SqliteValues {
  constructor(private readonly db: Database.Database) {}

  get<T>(key: string): T | null {
    const row = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : null;
  }

  getVersioned<T>(key: string): VersionedValue<T> | null {
    const row = this.db.prepare('SELECT value, version FROM kv WHERE key = ?').get(key) as { value: string; version: number } | undefined;
    return row ? { value: JSON.parse(row.value) as T, version: row.version } : null;
  }

  compareAndSet<T>(key: string, expectedVersion: number | null, value: T): CasResult<T> {
    const text = jsonOf(key, value);
    // One statement is atomic on the file: another process's write lands wholly before or after it.
    const res =
      expectedVersion === null
        ? this.db.prepare('INSERT OR IGNORE INTO kv (key, value, version) VALUES (?, ?, 1)').run(key, text)
        : this.db.prepare('UPDATE kv SET value = ?, version = version + 1 WHERE key = ? AND version = ?').run(text, key, expectedVersion);
    if (res.changes === 1) return { ok: true, version: (expectedVersion ?? 0) + 1 };
    return { ok: false, current: this.getVersioned<T>(key) };
  }

  set(key: string, value: unknown): void {
    this.db.prepare(UPSERT_KV).run(key, jsonOf(key, value));
  }

  /** All in one transaction, after every value was encoded (one that cannot be is refused before any write). */
  setMany(entries: Readonly<Record<string, unknown>>): void {
    const rows = Object.entries(entries).map(([k, v]) => [k, jsonOf(k, v)] as const);
    const stmt = this.db.prepare(UPSERT_KV);
    this.db.transaction(() => {
      for (const [k, text] of rows) stmt.run(k, text);
    }).immediate();
  }

  getMany<T>(keys: readonly string[]): Map<string, T> {
    const out = new Map<string, T>();
    const stmt = this.db.prepare('SELECT value FROM kv WHERE key = ?');
    for (const k of keys) {
      const row = stmt.get(k) as { value: string } | undefined;
      if (row) out.set(k, JSON.parse(row.value) as T);
    }
    return out;
  }
}

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
