/**
 * npm run bench:reliability [-- --points default|all|LIST] [--concurrency 2] [--soak-days 7] [--soak-every 15m]
 *   [--soak-metrics 1000] [--storm 500] [--cpu-cycles 10] [--cpu-cycles-10k 3] [--trials 1] [--lease-ttl 3]
 *   [--skip crash,failover,...] [--tsx] [--soak-node-options "--max-semi-space-size=2"] [--default-heap]
 *
 * Fault, load and soak figures (issue 16 items 6, 8, 9). Crash points and failover run real daemon
 * processes; soak, storm and CPU run the pipeline in a child process each (so its resident memory is
 * measured alone), on JavaScript compiled first into bench/out/js (as the daemon runs from dist: no tsx
 * loader in the figure; --tsx runs them through tsx instead), with the daemon's V8 heap flags
 * (src/pipeline/heap-flags.ts, as the Dockerfile runs it; --default-heap: V8's defaults). What each figure means:
 *   crash_points / crash_failures: lifecycle writes a daemon was SIGKILLed at / runs that broke an invariant;
 *   double_executions / lost_approvals: over those runs; failover_s: SIGSTOP of the leader → the follower
 *   reports itself leader (worst of --trials), next to lease_ttl_s; soak_*: RSS of the pipeline watching
 *   --soak-metrics metrics for --soak-days simulated days (peak, and last quarter against second quarter);
 *   store_bytes_per_day: SQLite file + WAL at the end / days; notifications_per_incident: in a storm of
 *   --storm simultaneous anomalies; cpu_s_per_cycle_*: user + system CPU of one cycle after warm-up (10k:
 *   fewer cycles, --cpu-cycles-10k, as one takes seconds).
 * Prints a table of what was found, then one JSON line with
 * crash_points, crash_failures, double_executions, lost_approvals, failover_s, lease_ttl_s,
 * soak_rss_peak_mb, soak_rss_drift_pct, store_bytes_per_day, notifications_per_incident,
 * cpu_s_per_cycle_1k, cpu_s_per_cycle_10k.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ALL_CRASH_POINTS, DEFAULT_POINTS, runCrashPoints } from './reliability/crash-points.js';
import { measureFailover } from './reliability/failover.js';
import type { SoakResult } from './reliability/soak.js';
import { DAEMON_NODE_FLAGS } from '../src/pipeline/heap-flags.js';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: 'default' },
    concurrency: { type: 'string', default: '2' },
    speed: { type: 'string', default: '240' },
    'soak-days': { type: 'string', default: '7' },
    'soak-every': { type: 'string', default: '15m' },
    'soak-metrics': { type: 'string', default: '1000' },
    storm: { type: 'string', default: '500' },
    'cpu-cycles': { type: 'string', default: '10' },
    'cpu-cycles-10k': { type: 'string', default: '3' },
    tsx: { type: 'boolean', default: false },
    'soak-node-options': { type: 'string', default: '' },
    'default-heap': { type: 'boolean', default: false },
    trials: { type: 'string', default: '1' },
    'lease-ttl': { type: 'string', default: '3' },
    skip: { type: 'string', default: '' },
  },
});

const num = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench:reliability: --${name} must be a positive number, got "${String(values[name])}"\n`);
    process.exit(2);
  }
  return v;
};
const skip = new Set(String(values.skip).split(',').filter(Boolean));
const unknownSkip = [...skip].filter((s) => !['crash', 'failover', 'soak', 'storm', 'cpu'].includes(s));
if (unknownSkip.length > 0) {
  process.stderr.write(`bench:reliability: --skip knows crash, failover, soak, storm, cpu (not ${unknownSkip.join(', ')})\n`);
  process.exit(2);
}
const points = values.points === 'all' ? ALL_CRASH_POINTS : values.points === 'default' ? DEFAULT_POINTS : String(values.points).split(',');
const badPoints = points.filter((p) => !ALL_CRASH_POINTS.includes(p));
if (badPoints.length > 0) {
  process.stderr.write(`bench:reliability: unknown crash points ${badPoints.join(', ')} (known: ${ALL_CRASH_POINTS.join(', ')})\n`);
  process.exit(2);
}

/** Compiles the measured children (src and bench/reliability) once, so they run without the tsx loader. */
function compileChildren(): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/reliability/tsconfig.json'], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`compiling the bench children failed (tsc exited ${code})`))));
  });
}

const COMPILED_CHILD = 'bench/out/js/bench/reliability/child.js';
let compiled: Promise<void> | null = null;

/** Runs one measurement in a fresh process (compiled, with --expose-gc for the end-of-run breakdown) and parses its JSON line. */
async function child<T>(what: string, opts: Record<string, unknown>, nodeOptions: readonly string[] = []): Promise<T> {
  if (!values.tsx) await (compiled ??= compileChildren());
  const entry = values.tsx ? ['--import', 'tsx', 'bench/reliability/child.ts'] : [COMPILED_CHILD];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', ...(values['default-heap'] ? [] : DAEMON_NODE_FLAGS), ...nodeOptions, ...entry, what, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${what} exited ${code}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${what} printed no JSON line: ${out.slice(-2000)}`));
      }
    });
  });
}

const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
const result: Record<string, number | null> = {
  crash_points: null,
  crash_failures: null,
  double_executions: null,
  lost_approvals: null,
  failover_s: null,
  lease_ttl_s: num('lease-ttl'),
  soak_rss_peak_mb: null,
  soak_rss_drift_pct: null,
  store_bytes_per_day: null,
  notifications_per_incident: null,
  cpu_s_per_cycle_1k: null,
  cpu_s_per_cycle_10k: null,
};

if (!skip.has('crash')) {
  console.log(`crash points: ${points.length}, ${num('concurrency')} at a time, speed ${num('speed')}`);
  const s = await runCrashPoints(points, num('concurrency'), { speed: num('speed'), phaseTimeoutMs: 120_000 }, (o) => {
    console.log(`  ${o.point.padEnd(34)} ${o.problems.length === 0 ? 'ok ' : 'BROKE'} ended ${o.finalState ?? '-'}${o.problems.length ? `: ${o.problems.join('; ')}` : ''} (${elapsed()})`);
  });
  Object.assign(result, { crash_points: s.crash_points, crash_failures: s.crash_failures, double_executions: s.double_executions, lost_approvals: s.lost_approvals });
}
if (!skip.has('failover')) {
  const f = await measureFailover(num('lease-ttl'), num('trials'), num('speed'));
  console.log(`failover: ${f.samples_s.map((x) => x.toFixed(2)).join(', ')} s for a ${f.lease_ttl_s} s lease (${elapsed()})`);
  result['failover_s'] = Math.round(f.failover_s * 100) / 100;
}
if (!skip.has('storm')) {
  const s = await child<{ anomalies: number; incidents: number; notifications: number; notifications_per_incident: number }>('storm', { anomalies: num('storm'), metrics: num('storm') });
  console.log(`storm: ${s.anomalies} anomalies → ${s.incidents} incidents, ${s.notifications} notifications (${elapsed()})`);
  result['notifications_per_incident'] = s.notifications_per_incident;
}
if (!skip.has('cpu')) {
  for (const [metrics, key] of [[1000, 'cpu_s_per_cycle_1k'], [10_000, 'cpu_s_per_cycle_10k']] as const) {
    // The first cycle reads the whole window (past the detectors' warm-up); a few more settle caches and JIT.
    const c = await child<{ cpu_s_per_cycle: number }>('cpu', { metrics, warmup: metrics > 1000 ? 2 : 5, cycles: metrics > 1000 ? num('cpu-cycles-10k') : num('cpu-cycles') });
    console.log(`cpu: ${c.cpu_s_per_cycle} s per cycle at ${metrics} metrics (${elapsed()})`);
    result[key] = c.cpu_s_per_cycle;
  }
}
if (!skip.has('soak')) {
  const nodeOptions = String(values['soak-node-options']).split(' ').filter(Boolean);
  const s = await child<SoakResult>('soak', { metrics: num('soak-metrics'), days: num('soak-days'), every: values['soak-every'] }, nodeOptions);
  const m = s.end_memory_mb;
  console.log(`soak${nodeOptions.length ? ` (node ${nodeOptions.join(' ')})` : ''}: ${s.cycles} cycles, ${s.incidents} incidents, RSS by day ${s.rss_mb_by_day.join(' ')} MB; ${s.rss_baseline_mb} MB before the estate opened (node + modules${values.tsx ? ' + tsx' : ''}), ${s.rss_after_open_mb} MB once open; at the end after GC: V8 heap ${m.heap_used} MB used of ${m.heap_total} MB reserved, external ${m.external} MB, RSS ${m.rss} MB; store ${(s.store_bytes_per_day / 1e6).toFixed(2)} MB/day (file ${(s.store_db_bytes / 1e6).toFixed(1)} MB + WAL ${(s.store_wal_bytes / 1e6).toFixed(1)} MB) (${elapsed()})`);
  Object.assign(result, { soak_rss_peak_mb: s.soak_rss_peak_mb, soak_rss_drift_pct: s.soak_rss_drift_pct, store_bytes_per_day: s.store_bytes_per_day });
}
console.log(`(${elapsed()})`);
console.log(JSON.stringify(result));
