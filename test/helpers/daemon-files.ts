import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type { DaemonProcess } from './daemon-process.js';

/**
 * What process tests and `bench:reliability` read and write beside a real daemon: its policy file,
 * its SQLite store (read-only while it runs), the simulated cloud's record of actions taken.
 */

/** The demo policy, paths made absolute, with `edit` applied, written into `dir`; returns the file. */
export function demoPolicyFile(dir: string, edit: (doc: Record<string, any>) => void = () => undefined): string {
  const doc = parse(readFileSync('config/demo.yaml', 'utf8')) as Record<string, any>;
  doc['cloud'].scenario = resolve('config', doc['cloud'].scenario);
  doc['runbooks'].dir = resolve('config', doc['runbooks'].dir);
  edit(doc);
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** The demo policy's store under a data dir. */
export const demoDbPath = (dir: string): string => join(dir, '.data', 'demo.db');

/** Audit records of one kind on disk, in order (read-only: the daemons keep writing). */
export function auditOfKind(dir: string, kind: string): { incidentId: string; data: Record<string, unknown> }[] {
  const db = new Database(demoDbPath(dir), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT incident_id, data FROM audit WHERE kind = ? ORDER BY seq').all(kind) as { incident_id: string; data: string }[];
    return rows.map((r) => ({ incidentId: r.incident_id, data: JSON.parse(r.data) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

/** What the audit trail on disk says was started. */
export const stepsStarted = (dir: string): { incidentId: string; data: Record<string, unknown> }[] => auditOfKind(dir, 'step.started');

/** The simulated cloud's count of execute calls per idempotency key (what really ran). */
export function simExecuteCalls(dir: string): Record<string, number> {
  try {
    const sim = JSON.parse(readFileSync(join(dir, '.data', 'sim-state.json'), 'utf8')) as { executeCalls?: Record<string, number> };
    return sim.executeCalls ?? {};
  } catch {
    return {};
  }
}

/**
 * SIGSTOPs `d` at a moment it holds no write lock on the file. SQLite's lock is the process's own: a
 * process paused inside a write transaction blocks every writer, the lease's takeover included, until
 * it resumes (a limit of one shared SQLite file; DynamoDB has none). That pause is not what a failover
 * measurement is about.
 */
export async function pauseOutsideWriteLock(d: DaemonProcess, dir: string): Promise<void> {
  const db = new Database(demoDbPath(dir), { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  try {
    for (let i = 0; i < 100; i++) {
      d.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 20));
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
        return;
      } catch {
        d.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 30));
      }
    }
    throw new Error('the daemon held the write lock at every try');
  } finally {
    db.close();
  }
}
