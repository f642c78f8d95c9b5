import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { leaseContract, storeContract } from './store-contract.js';
import { portContract } from './store-contract-port.js';

const KEY = Buffer.from('audit-key-for-contract-tests-0123456789');

/** Raw SQL on the file, with the append-only guards dropped (what someone with the file could do). */
function raw(file: string, sql: string, ...args: unknown[]): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS audit_no_delete; DROP TRIGGER IF EXISTS audit_no_update;');
  db.prepare(sql).run(...args);
  db.close();
}

// The SQLite trail is one chain for the whole store: an incident's records are addressed by their seq.
storeContract('SqliteStore', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'contract-')), 'cloudops.db');
  const store = new SqliteStore(file, { auditKey: KEY });
  return {
    store,
    tamper: {
      alterAuditData: async (incidentId, seq, data) => raw(file, 'UPDATE audit SET data = ? WHERE incident_id = ? AND seq = ?', JSON.stringify(data), incidentId, seq),
      deleteAudit: async (incidentId, seq) => raw(file, 'DELETE FROM audit WHERE incident_id = ? AND seq = ?', incidentId, seq),
      deleteAuditCheckpoint: async () => raw(file, 'DELETE FROM audit_checkpoint'),
    },
    close: () => store.close(),
  };
});

leaseContract('SqliteStore', async () => {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'lease-contract-')), 'cloudops.db'), { auditKey: KEY });
  return { leases: store, close: () => store.close() };
});

portContract('SqliteStore', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'port-contract-')), 'cloudops.db');
  const store = new SqliteStore(file, { auditKey: KEY });
  return {
    store,
    second: async () => new SqliteStore(file, { auditKey: KEY }),
    unavailable: async () => {
      const closed = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'port-closed-')), 'cloudops.db'), { auditKey: KEY });
      await closed.close();
      return closed;
    },
    close: () => store.close(),
  };
});
