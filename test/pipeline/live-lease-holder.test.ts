import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveLeaseHolder } from '../../src/compose.js';
import { epochMs } from '../../src/core/time.js';
import { LEADER_LEASE } from '../../src/store/lease.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { demoFiles } from '../helpers/fast-world.js';

describe('a daemon starting beside a running one', () => {
  it('sees the live lease holder (and so keeps the store of an ended demo scenario); an expired or missing lease is no holder', async () => {
    const { policy } = demoFiles();
    const path = join(mkdtempSync(join(tmpdir(), 'cloudops-holder-')), 'demo.db');
    const now = epochMs(Date.parse('2026-12-01T00:00:00Z'));
    expect(await liveLeaseHolder(policy, path, now)).toBeNull();
    const running = new SqliteStore(path, { auditKey: null });
    await running.acquireLease(LEADER_LEASE, 'host/1/abc', now, 30_000);
    expect(await liveLeaseHolder(policy, path, now + 29_999)).toMatchObject({ owner: 'host/1/abc', token: 1 });
    expect(await liveLeaseHolder(policy, path, now + 30_000)).toBeNull();
    // The running daemon's connection is unaffected by the look.
    expect((await running.acquireLease(LEADER_LEASE, 'host/1/abc', epochMs(now + 1), 30_000)).held).toBe(true);
    await running.close();
  });
});
