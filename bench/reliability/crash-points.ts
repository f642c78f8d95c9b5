/**
 * Crash points (issue 16 item 6): a real daemon on the demo scenario, SIGKILLed by the fault hook
 * (CLOUDOPS_FAULT_KILL_AT) right before or after one lifecycle write, restarted, and driven to the
 * end. After each run: no step started twice or called twice in the cloud, no approval that was
 * recorded (or acknowledged to the approver) is missing, the audit chain verifies, the incident ends.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { auditOfKind, demoDbPath, demoPolicyFile, simExecuteCalls } from '../../test/helpers/daemon-files.js';
import { DaemonStartError, getJson, startDaemonProcess, waitFor, type DaemonProcess } from '../../test/helpers/daemon-process.js';

/** The writes an approved runbook's incident goes through on the demo scenario, in order. */
export const LIFECYCLE_WRITES = [
  'transition.drafting',
  'draft.attempt',
  'transition.awaiting_approval',
  'decision.recorded',
  'transition.approved',
  'transition.executing',
  'step.started',
  'step.finished',
  'transition.verifying',
  'verify.poll',
  'transition.resolved',
] as const;

export const ALL_CRASH_POINTS: readonly string[] = LIFECYCLE_WRITES.flatMap((w) => [`${w}:before`, `${w}:after`]);

/**
 * The default set: every write's `after`, and `before` where something happens between two writes
 * that an `after` of the previous write would not cover (the first write; the decision, recorded by
 * the HTTP handler rather than the pipeline; the cloud call between step.started and step.finished).
 * Elsewhere X:before leaves the same state on disk as the previous write's :after. `--points all`
 * runs every one.
 */
export const DEFAULT_POINTS: readonly string[] = [
  'transition.drafting:before',
  'decision.recorded:before',
  'step.finished:before',
  ...LIFECYCLE_WRITES.map((w) => `${w}:after`),
];

export interface CrashOutcome {
  readonly point: string;
  /** The hook fired (the process died by SIGKILL at the point). */
  readonly reached: boolean;
  readonly doubleExecutions: number;
  readonly lostApprovals: number;
  readonly auditOk: boolean;
  readonly finalState: string | null;
  /**
   * Why the run broke an invariant; empty when it held. Ending in needs_human is not a break: a step
   * found started after a crash, with no trace in the cloud, goes to a person by design.
   */
  readonly problems: readonly string[];
}

interface DecisionRow {
  readonly incident_id: string;
  readonly approver: string;
  readonly runbook_hash: string;
  readonly verdict: string;
}

function storedDecisions(dir: string): DecisionRow[] {
  if (!existsSync(demoDbPath(dir))) return [];
  const db = new Database(demoDbPath(dir), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT incident_id, approver, runbook_hash, verdict FROM decisions').all() as DecisionRow[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

const decisionKey = (d: { incident_id: string; approver: string; runbook_hash: string }): string => `${d.incident_id}|${d.approver}|${d.runbook_hash}`;

/** Approves (as alice) the incident awaiting approval, once per runbook hash; records what was acknowledged. */
async function approveWhenAsked(d: DaemonProcess, asked: Set<string>, acknowledged: DecisionRow[]): Promise<void> {
  const inc = (await getJson(`${d.url}/api/incidents?state=awaiting_approval`)).incidents?.[0] as { id: string; runbookHash: string } | undefined;
  if (!inc || asked.has(`${inc.id}|${inc.runbookHash}`)) return;
  asked.add(`${inc.id}|${inc.runbookHash}`);
  const res = await fetch(`${d.url}/api/incidents/${inc.id}/approve`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-token-alice', 'content-type': 'application/json' },
    body: JSON.stringify({ runbookHash: inc.runbookHash }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status === 200) acknowledged.push({ incident_id: inc.id, approver: 'alice', runbook_hash: inc.runbookHash, verdict: 'approve' });
}

const TERMINAL = new Set(['resolved', 'needs_human', 'expired', 'rejected', 'not_recovered', 'closed']);

export interface CrashOptions {
  readonly speed: number;
  /** Wall ms a phase (to the kill, then to the end) may take. */
  readonly phaseTimeoutMs: number;
}

export const DEFAULT_CRASH_OPTIONS: CrashOptions = { speed: 240, phaseTimeoutMs: 120_000 };

/** One crash point: run, kill at `point`, restart, finish, check the invariants. */
export async function runCrashPoint(point: string, opts: CrashOptions = DEFAULT_CRASH_OPTIONS): Promise<CrashOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-crash-'));
  // Virtual time runs on while a killed daemon is down (its clock is anchored to the wall): at a high
  // speed a restart under load costs many virtual minutes. The approval windows are widened so that a
  // recorded approval is still fresh after the restart: staleness is a safety rule, not what is measured.
  // For the same reason the demo scenario is given a longer end: a restart after its end would start it afresh.
  const policy = demoPolicyFile(dir, (doc) => {
    doc['approval'] = { ...doc['approval'], ttl: '6h', executeWithin: '3h', reminders: [] };
    delete doc['approval'].escalation;
    const scenario = parse(readFileSync(doc['cloud'].scenario, 'utf8')) as Record<string, unknown>;
    scenario['duration'] = '12h';
    writeFileSync(join(dir, 'scenario.yaml'), stringify(scenario));
    doc['cloud'].scenario = join(dir, 'scenario.yaml');
  });
  const args = ['--policy', policy, '--data-dir', dir, '--speed', String(opts.speed)];
  const problems: string[] = [];
  const asked = new Set<string>();
  const acknowledged: DecisionRow[] = [];
  let reached = false;
  let finalState: string | null = null;
  // At a high speed the first cycles can reach an early point before the daemon prints its address:
  // a SIGKILL before it started is the point reached.
  let first: DaemonProcess | null = null;
  try {
    first = await startDaemonProcess(args, { CLOUDOPS_FAULT_KILL_AT: point }, opts.phaseTimeoutMs);
  } catch (err) {
    if (!(err instanceof DaemonStartError) || err.exit !== 'SIGKILL') throw err;
    reached = true;
  }
  let second: DaemonProcess | null = null;
  try {
    if (first) {
      const f = first;
      const died = f.exited.then((how) => ({ how }));
      const deadline = Date.now() + opts.phaseTimeoutMs;
      let how: number | string | null = null;
      while (Date.now() < deadline && how === null) {
        await approveWhenAsked(f, asked, acknowledged).catch(() => undefined);
        how = (await Promise.race([died, new Promise<null>((r) => setTimeout(() => r(null), 250))]))?.how ?? null;
      }
      reached = how === 'SIGKILL';
      if (!reached) {
        f.child.kill('SIGKILL');
        await f.exited;
        problems.push(how === null ? 'the fault point was never reached' : `the daemon exited ${how} before the fault point`);
      }
    }
    // An approval whose request failed (the daemon died before answering) is given again, as a person would.
    asked.clear();
    const beforeRestart = storedDecisions(dir);

    second = await startDaemonProcess(args, {}, opts.phaseTimeoutMs);
    const s = second;
    let last: { state: string; id: string } | null = null;
    await waitFor('the incident to end after the restart', async () => {
      await approveWhenAsked(s, asked, acknowledged).catch(() => undefined);
      const incs = (await getJson(`${s.url}/api/incidents`)).incidents as { id: string; state: string }[];
      last = incs[0] ?? null;
      return last !== null && TERMINAL.has(last.state);
    }, opts.phaseTimeoutMs).catch((err: unknown) => problems.push(`${String(err)} (last state ${(last as { state: string } | null)?.state ?? 'none'})`));
    finalState = (last as { state: string } | null)?.state ?? null;
    s.child.kill('SIGTERM');
    await Promise.race([s.exited, new Promise((r) => setTimeout(r, 15_000))]);
    s.child.kill('SIGKILL');
    await s.exited;

    const after = new Set(storedDecisions(dir).map(decisionKey));
    const lost = [...new Map([...beforeRestart, ...acknowledged].map((d) => [decisionKey(d), d])).values()].filter((d) => !after.has(decisionKey(d)));
    // A kept approval that the daemon then ignored (the incident expired or was handed back) is lost too.
    const ignored = finalState === 'expired' && after.size > 0 ? 1 : 0;
    if (lost.length > 0) problems.push(`lost approvals: ${lost.map(decisionKey).join(', ')}`);
    if (ignored > 0) problems.push('an approval was recorded, yet the incident expired after the restart');

    const started = new Map<string, number>();
    for (const r of auditOfKind(dir, 'step.started')) started.set(String(r.data['key']), (started.get(String(r.data['key'])) ?? 0) + 1);
    const calls = simExecuteCalls(dir);
    const keys = new Set([...started.keys(), ...Object.keys(calls)]);
    let doubles = 0;
    for (const k of keys) if ((started.get(k) ?? 0) > 1 || (calls[k] ?? 0) > 1) doubles++;
    if (doubles > 0) problems.push(`double executions: ${JSON.stringify({ started: Object.fromEntries(started), calls })}`);

    const store = new SqliteStore(demoDbPath(dir));
    const v = await store.verifyAudit().finally(() => store.close());
    if (!v.ok) problems.push(`audit verify failed at ${v.firstBadSeq}: ${v.problem}`);
    return { point, reached, doubleExecutions: doubles, lostApprovals: lost.length + ignored, auditOk: v.ok, finalState, problems };
  } finally {
    first?.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
  }
}

export interface CrashSummary {
  readonly crash_points: number;
  readonly crash_failures: number;
  readonly double_executions: number;
  readonly lost_approvals: number;
  readonly outcomes: readonly CrashOutcome[];
}

/** Runs `points`, `concurrency` at a time (each run is two daemon processes one after the other). */
export async function runCrashPoints(points: readonly string[], concurrency: number, opts: CrashOptions = DEFAULT_CRASH_OPTIONS, onOutcome: (o: CrashOutcome) => void = () => undefined): Promise<CrashSummary> {
  const queue = [...points];
  const outcomes: CrashOutcome[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        const point = p;
        // A run that could not even start (a daemon that never came up) is a broken point, not the end of the bench.
        const o = await runCrashPoint(point, opts).catch((err: unknown): CrashOutcome => ({ point, reached: false, doubleExecutions: 0, lostApprovals: 0, auditOk: false, finalState: null, problems: [`the run failed: ${String(err).slice(0, 500)}`] }));
        outcomes.push(o);
        onOutcome(o);
      }
    }),
  );
  outcomes.sort((a, b) => points.indexOf(a.point) - points.indexOf(b.point));
  return {
    crash_points: outcomes.length,
    crash_failures: outcomes.filter((o) => o.problems.length > 0).length,
    double_executions: outcomes.reduce((n, o) => n + o.doubleExecutions, 0),
    lost_approvals: outcomes.reduce((n, o) => n + o.lostApprovals, 0),
    outcomes,
  };
}
