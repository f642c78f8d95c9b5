import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TERMINAL_STATES } from '../incident/lifecycle.js';

/** Every table of the SQLite store; each concept's module reads and writes only its own. */
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
CREATE TABLE IF NOT EXISTS audit_summary (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, ends_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS step_budget (hour_start INTEGER PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, token INTEGER NOT NULL CHECK (token > 0),
  expires_at INTEGER NOT NULL, acquired_at INTEGER NOT NULL);
`;

/**
 * Opens (or creates) the store's file in WAL mode with its schema, and brings an older file up to date.
 * synchronous=FULL: a write the caller was told about survives a power cut, not only a process crash.
 */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Schema and migrations in one write transaction: processes opening one file at once (tasks on one
  // volume) do it one after another, so none sees another's half-made schema ("trigger … already exists").
  db.transaction(() => {
    db.exec(SCHEMA);
    // Stores made before compare-and-set: every existing value starts at version 1.
    const kvCols = db.prepare('PRAGMA table_info(kv)').all() as { name: string }[];
    if (!kvCols.some((c) => c.name === 'version')) db.exec('ALTER TABLE kv ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
    // Records may be deleted only once the signed summary covers them (retention); the trigger of older
    // files refused every delete and is replaced. A guard against mistakes: the signature is the protection.
    const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_no_delete'").get() as { sql: string } | undefined;
    if (!trigger?.sql.includes('audit_summary')) {
      db.exec(`DROP TRIGGER IF EXISTS audit_no_delete; ${AUDIT_NO_DELETE}`);
    }
  }).immediate();
  return db;
}

const AUDIT_NO_DELETE = `CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  WHEN OLD.seq > coalesce((SELECT seq FROM audit_summary WHERE id = 1), 0)
  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;`;
