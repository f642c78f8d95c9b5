/**
 * Soak (issue 16 item 8): the pipeline watching the synthetic estate for simulated days on a manual
 * clock, as fast as the machine runs it, with a person approving every proposal (so incidents go the
 * whole way: drafted, approved, rolled back, verified). Resident memory is sampled every simulated
 * hour; the store's files are measured at the end.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEstate, writeEstate } from './synthetic-world.js';

export interface SoakResult {
  readonly metrics: number;
  readonly days: number;
  readonly cycles: number;
  readonly incidents: number;
  readonly soak_rss_peak_mb: number;
  readonly soak_rss_drift_pct: number;
  readonly store_bytes_per_day: number;
  /** This process's RSS before the estate was opened (node and the modules; the tsx loader too when not run compiled): not the pipeline's. */
  readonly rss_baseline_mb: number;
  readonly store_db_bytes: number;
  readonly store_wal_bytes: number;
  readonly rss_mb_by_day: readonly number[];
  readonly wall_s: number;
  /**
   * Where the memory is at the end, after a full GC when node runs with --expose-gc (MB): V8's heap in
   * use and reserved, memory outside it (buffers, SQLite's allocations are not counted by V8), and RSS.
   */
  readonly end_memory_mb: { readonly rss: number; readonly heap_used: number; readonly heap_total: number; readonly external: number };
  /** The RSS right after the modules were loaded (before the estate), and right after it was opened. */
  readonly rss_after_open_mb: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fileSize = (f: string): number => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

/**
 * Drift: the mean RSS of the last quarter of the run against the mean of its second quarter (the
 * first quarter is warm-up: detectors filling their windows, caches, JIT).
 */
export function rssDriftPct(samples: readonly number[]): number {
  const q = Math.floor(samples.length / 4);
  if (q === 0) return 0;
  const second = mean(samples.slice(q, 2 * q));
  const last = mean(samples.slice(samples.length - q));
  return ((last - second) / second) * 100;
}

export async function runSoak(o: { metrics: number; days: number; every: string }): Promise<SoakResult> {
  const t0 = performance.now();
  const baseline = process.memoryUsage().rss / 1e6;
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-soak-'));
  const file = writeEstate(dir, { metrics: o.metrics, days: o.days, every: o.every, badDeployEveryH: 6 });
  const e = openEstate(dir, file);
  const afterOpen = process.memoryUsage().rss / 1e6;
  const perHour = Math.max(1, Math.round(3_600_000 / e.policy.pollEveryMs));
  const cycles = Math.round((o.days * 24 * 3_600_000) / e.policy.pollEveryMs);
  const samples: number[] = [];
  const byDay: number[] = [];
  const approved = new Set<string>();
  for (let c = 1; c <= cycles; c++) {
    await e.step();
    // The on-call person approves what is proposed (once per runbook version).
    for (const inc of await e.store.listIncidents({ states: ['awaiting_approval'] })) {
      const hash = inc.runbook?.hash;
      if (!hash || approved.has(`${inc.id}|${hash}`)) continue;
      approved.add(`${inc.id}|${hash}`);
      await e.watcher.decide({ incidentId: inc.id, approver: 'bob', verdict: 'approve', runbookHash: hash, channel: 'cli', identity: 'token:bob' }).catch(() => undefined);
    }
    if (c % perHour === 0) samples.push(process.memoryUsage().rss / 1e6);
    if (c % (perHour * 24) === 0) byDay.push(Math.round(samples[samples.length - 1] ?? 0));
  }
  await e.watcher.queueIdle();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const end_memory_mb = { rss: Math.round(m.rss / 1e6), heap_used: Math.round(m.heapUsed / 1e6), heap_total: Math.round(m.heapTotal / 1e6), external: Math.round(m.external / 1e6) };
  const incidents = (await e.store.listIncidents({ limit: 100_000 })).length;
  await e.store.close();
  const db = fileSize(e.storePath);
  const wal = fileSize(`${e.storePath}-wal`);
  const bytes = db + wal;
  return {
    metrics: o.metrics,
    days: o.days,
    cycles,
    incidents,
    soak_rss_peak_mb: Math.round(Math.max(...samples)),
    soak_rss_drift_pct: Math.round(rssDriftPct(samples) * 10) / 10,
    store_bytes_per_day: Math.round(bytes / o.days),
    rss_mb_by_day: byDay,
    rss_baseline_mb: Math.round(baseline),
    store_db_bytes: db,
    store_wal_bytes: wal,
    wall_s: Math.round((performance.now() - t0) / 1000),
    end_memory_mb,
    rss_after_open_mb: Math.round(afterOpen),
  };
}
