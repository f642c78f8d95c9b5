import Database from 'better-sqlite3';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, type EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { OPEN_STATES } from '../../src/incident/lifecycle.js';
import { StoreMaintenance } from '../../src/store/maintenance.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { nextVersion, type AuditInput } from '../../src/store/store.js';
import { incidentFor } from './store-contract.js';

/**
 * Item 7 of issue 16: what a cycle reads from the store must not grow with the history kept, ended
 * incidents leave the hot table after the retention, the audit trail still verifies, the WAL shrinks.
 */
const KEY = Buffer.from('audit-key-for-growth-tests-0123456789');
const T = 1_800_000_000_000 as EpochMs;
const entry = (incidentId: string, kind: string, at: number): AuditInput => ({ at: at as EpochMs, incidentId, kind, actor: 'test', data: {} });
const fileIn = (prefix: string) => join(mkdtempSync(join(tmpdir(), prefix)), 'cloudops.db');

let open: SqliteStore[] = [];
afterEach(async () => {
  for (const s of open) await s.close();
  open = [];
});
const storeAt = (file: string, retentionDays: number | null = 30) => {
  const s = new SqliteStore(file, { auditKey: KEY, endedRetentionMs: retentionDays === null ? null : retentionDays * DAY });
  open.push(s);
  return s;
};

/**
 * `ended` resolved incidents over the past 60 days, then 5 open ones: the history a long-running daemon
 * has. The history goes in as rows in one transaction (thousands of fsynced store writes would take
 * most of a minute); returns how many ended past the 30-day retention.
 */
async function withHistory(file: string, store: SqliteStore, ended: number): Promise<number> {
  const db = new Database(file);
  const insert = db.prepare('INSERT INTO incidents (id, service, state, version, opened_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let old = 0;
  db.transaction(() => {
    for (let i = 0; i < ended; i++) {
      const at = (T - 60 * DAY + i * Math.floor((59 * DAY) / ended)) as EpochMs;
      const inc: Incident = { ...incidentFor(`old-${i}`, i % 2 ? 'checkout' : 'search', at), state: 'resolved' };
      insert.run(inc.id, inc.service, inc.state, inc.version, inc.openedAt, inc.updatedAt, JSON.stringify(inc));
      if (inc.updatedAt < T - 30 * DAY) old++;
    }
  })();
  db.close();
  for (let i = 0; i < 5; i++) await store.createIncident(incidentFor(`open-${i}`, 'checkout', (T + i) as EpochMs), entry(`open-${i}`, 'incident.opened', T + i));
  return old;
}

/** What one cycle asks the store (open-incidents, decide, evidence, /metrics), timed over several rounds. */
async function cycleReads(store: SqliteStore): Promise<number> {
  const t0 = performance.now();
  for (let round = 0; round < 20; round++) {
    await store.listIncidents({ states: [...OPEN_STATES], limit: 500 });
    await store.listIncidents({ openedAfter: (T - 30 * 60_000) as EpochMs, limit: 200 });
    await store.countIncidentsByState();
    await store.stepsInHour(T);
  }
  return performance.now() - t0;
}

describe('SqliteStore growth stays bounded', () => {
  it('after archiving, per-cycle reads with 5,000 ended incidents cost about what they cost with 10', async () => {
    const [smallFile, largeFile] = [fileIn('growth-small-'), fileIn('growth-large-')];
    const small = storeAt(smallFile);
    const large = storeAt(largeFile);
    const smallOld = await withHistory(smallFile, small, 10);
    const largeOld = await withHistory(largeFile, large, 5_000);
    // About half the history ended more than the 30-day retention ago.
    expect((await small.maintain(T)).archived).toBe(smallOld);
    expect((await large.maintain(T)).archived).toBe(largeOld);
    expect(largeOld).toBeGreaterThan(2_400);
    await cycleReads(small); // warm both (statement cache, page cache)
    await cycleReads(large);
    const smallMs = Math.min(await cycleReads(small), await cycleReads(small));
    const largeMs = Math.min(await cycleReads(large), await cycleReads(large));
    // Generous: the point is that 500x the history does not cost anything like 500x (or 10x) the time.
    expect(largeMs).toBeLessThan(Math.max(smallMs * 5, smallMs + 50));
    expect(await large.listIncidents({ states: [...OPEN_STATES] })).toHaveLength(5);
  }, 120_000);

  it('archives only ended incidents older than the retention; archived ones still read by id, leave the listings and keep the trail verifiable', async () => {
    const store = storeAt(fileIn('growth-archive-'));
    const oldEnded = incidentFor('old-ended', 'checkout', (T - 40 * DAY) as EpochMs);
    await store.createIncident(oldEnded, entry('old-ended', 'incident.opened', T - 40 * DAY));
    const resolved = { ...nextVersion(oldEnded, (T - 39 * DAY) as EpochMs), state: 'resolved' as const };
    await store.updateIncident(resolved, entry('old-ended', 'incident.transition', T - 39 * DAY));
    const oldOpen = incidentFor('old-open', 'checkout', (T - 40 * DAY) as EpochMs); // old but still open: kept
    await store.createIncident(oldOpen, entry('old-open', 'incident.opened', T - 40 * DAY));
    const recentEnded = { ...incidentFor('recent-ended', 'checkout', (T - 2 * DAY) as EpochMs), state: 'withdrawn' as const };
    await store.createIncident(recentEnded, entry('recent-ended', 'incident.opened', T - 2 * DAY));

    expect((await store.maintain(T)).archived).toBe(1);
    expect((await store.listIncidents()).map((i) => i.id).sort()).toEqual(['old-open', 'recent-ended']);
    expect(await store.countIncidentsByState()).toEqual({ detected: 1, withdrawn: 1 });
    expect(await store.getIncident('old-ended')).toEqual(resolved);
    expect(await store.verifyAudit()).toEqual({ ok: true, records: 4 });
    // An archived id is still taken; a second maintain has nothing more to move.
    await expect(store.createIncident(oldEnded, entry('old-ended', 'incident.opened', T))).rejects.toMatchObject({ name: 'StoreConflictError' });
    expect((await store.maintain((T + 1) as EpochMs)).archived).toBe(0);
    // Without a retention nothing is archived.
    const keep = storeAt(fileIn('growth-keep-'), null);
    await keep.createIncident({ ...oldEnded, state: 'resolved' }, entry('old-ended', 'incident.opened', T - 40 * DAY));
    expect((await keep.maintain(T)).archived).toBe(0);
    expect(await keep.listIncidents()).toHaveLength(1);
  });

  it('maintain truncates the WAL', async () => {
    const file = fileIn('growth-wal-');
    const store = storeAt(file);
    const big = { points: Array.from({ length: 5_000 }, (_, i) => ({ t: i, v: i / 7 })) };
    for (let i = 0; i < 20; i++) await store.setValue(`chart:${i}`, big);
    const before = statSync(`${file}-wal`).size;
    expect(before).toBeGreaterThan(500_000);
    const report = await store.maintain(T);
    expect(report.walBytesBefore).toBe(before);
    expect(report.walBytesAfter).toBe(0);
    expect(statSync(`${file}-wal`).size).toBe(0);
    expect(await store.getValue('chart:19')).toEqual(big);
  });

  it('the daemon maintains at most once per interval of its clock, and a failure does not stop the next try', async () => {
    const calls: number[] = [];
    let fail = true;
    const errors: unknown[] = [];
    const m = new StoreMaintenance(
      {
        maintain: async (now) => {
          calls.push(now);
          if (fail) throw new Error('busy');
          return { archived: 0, auditRemoved: 0, walBytesBefore: null, walBytesAfter: null };
        },
      },
      600_000,
      (e) => errors.push(e),
    );
    expect(await m.maybe(T)).toBeNull();
    expect(errors).toHaveLength(1);
    fail = false;
    expect(await m.maybe((T + 1) as EpochMs)).toMatchObject({ archived: 0 }); // the failed one did not count
    expect(await m.maybe((T + 599_999) as EpochMs)).toBeNull();
    expect(await m.maybe((T + 600_001) as EpochMs)).toMatchObject({ archived: 0 });
    expect(calls).toEqual([T, T + 1, T + 600_001]);
  });
});
