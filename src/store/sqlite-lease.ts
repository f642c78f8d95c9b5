import type Database from 'better-sqlite3';
import type { EpochMs } from '../core/time.js';
import { StaleFencingTokenError, type LeaseFence, type LeaseRecord, type LeaseResult } from './lease.js';

interface LeaseRow {
  name: string;
  owner: string;
  token: number;
  expires_at: number;
  acquired_at: number;
}

/**
 * The leader lease and its fencing token in the `leases` table. Synchronous: the SqliteStore wraps
 * every call; `checkFence` runs inside the caller's write transaction.
 */
export class SqliteLeases {
  constructor(private readonly db: Database.Database) {}

  acquire(name: string, owner: string, now: EpochMs, ttlMs: number): LeaseResult {
    checkLeaseArgs(name, owner);
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be a positive whole number of milliseconds, got ${ttlMs}`);
    if (!Number.isSafeInteger(now) || now < 0) throw new RangeError(`lease time must be epoch milliseconds, got ${now}`);
    const expiresAt = (now + ttlMs) as EpochMs;
    // BEGIN IMMEDIATE: the read and the compare-and-set hold the write lock, so two processes on one file serialise.
    return this.db.transaction((): LeaseResult => {
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
    }).immediate();
  }

  release(name: string, owner: string, token: number): boolean {
    checkLeaseArgs(name, owner);
    // The row stays (expired) so the next takeover's token is still larger than this one.
    return this.db.prepare('UPDATE leases SET expires_at = 0 WHERE name = ? AND owner = ? AND token = ? AND expires_at > 0').run(name, owner, token).changes === 1;
  }

  read(name: string): LeaseRecord | null {
    const row = this.db.prepare('SELECT * FROM leases WHERE name = ?').get(name) as LeaseRow | undefined;
    // A released lease (expires_at 0) has no holder; its row stays only so the next token is larger.
    return row && row.expires_at !== 0 ? toLease(row) : null;
  }

  /** Throws StaleFencingTokenError unless `fence.token` is still the lease's current token. */
  checkFence(fence: LeaseFence): void {
    const row = this.db.prepare('SELECT token, expires_at FROM leases WHERE name = ?').get(fence.lease) as { token: number; expires_at: number } | undefined;
    // A released lease (expires_at 0) fences too: its holder has stopped being the leader.
    if (!row || row.token !== fence.token || row.expires_at === 0) throw new StaleFencingTokenError(fence.lease, fence.token, row?.token ?? null);
  }
}

function toLease(r: LeaseRow): LeaseRecord {
  return { name: r.name, owner: r.owner, token: r.token, expiresAt: r.expires_at as EpochMs, acquiredAt: r.acquired_at as EpochMs };
}

function checkLeaseArgs(name: string, owner: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new RangeError(`lease name must be 1-200 characters, got ${JSON.stringify(name)}`);
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) throw new RangeError(`lease owner must be 1-200 characters, got ${JSON.stringify(owner)}`);
}
