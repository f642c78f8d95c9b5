import type { Logger } from 'pino';
import type { ActionTarget, Announcement, Deployment, DeploymentSource, LogSource, MetricPoint, MetricSource, Notifier } from '../cloud/ports.js';
import { ManualClock } from '../core/clock.js';
import { PermanentError } from '../core/errors.js';
import { HOUR, MINUTE, type EpochMs } from '../core/time.js';
import { openGate, type PipelineDeps } from '../pipeline/context.js';
import { noMetrics } from '../pipeline/metrics.js';
import { RunState } from '../pipeline/run-state.js';
import { pipelineSettings } from '../pipeline/settings.js';
import { detectorFor as daemonDetectorFor } from '../pipeline/detector-factory.js';
import { Watcher } from '../pipeline/watcher.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { loadCatalog } from '../runbook/catalog.js';
import { TemplatePlanner } from '../runbook/template-planner.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { planMetricFetch, type ApiPlan } from './api-budget.js';
import { BudgetedLogs, RecordedDeployments, RecordedMetrics, prefetchMetrics } from './recorded-sources.js';
import { metricDays, metricNoise, suggestQuieter, summarizeIncidents, type BacktestReport } from './report.js';

/** What the account (or the simulated cloud) is read through: the same ports the daemon uses, read-only. */
export interface BacktestWorld {
  readonly metrics: MetricSource;
  readonly deployments: DeploymentSource;
  readonly logs: LogSource;
}

export interface BacktestOptions {
  readonly policy: CompiledPolicy;
  readonly world: BacktestWorld;
  readonly from: EpochMs;
  readonly to: EpochMs;
  /** The wall clock's now: only decides which data CloudWatch still keeps. */
  readonly now: EpochMs;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Shown the plan before any call is made; returning false stops the backtest with nothing read. */
  readonly confirm: (plan: BacktestPlan) => boolean | Promise<boolean>;
  readonly onProgress?: (phase: 'read' | 'replay', done: number, total: number) => void;
  /** Logs Insights queries the replay may make for evidence (one or two per incident). */
  readonly maxLogQueries?: number;
}

export interface BacktestPlan {
  readonly metrics: ApiPlan;
  /** One ListPipelineExecutions walk per pipeline (pages of 100 executions) and a read per suspect. */
  readonly pipelines: number;
  readonly maxLogQueries: number;
  /** Replay cycles, one per poll interval. */
  readonly cycles: number;
}

/** History read before `from`, so baselines have learned before the replayed stretch is scored. */
export const historyMs = (policy: CompiledPolicy): number => Math.max(policy.windowMs, 6 * HOUR);

/** Plans the read: pure, so the CLI shows the budget before a single call is made. */
export function planBacktest(policy: CompiledPolicy, from: EpochMs, to: EpochMs, now: EpochMs, maxLogQueries = 20): BacktestPlan {
  const pipelines = new Set(Object.values(policy.doc.services).flatMap((s) => s.pipelines));
  return {
    metrics: planMetricFetch(policy.metrics, (from - historyMs(policy)) as EpochMs, to, now),
    pipelines: pipelines.size,
    maxLogQueries,
    cycles: Math.floor((to - from) / policy.pollEveryMs) + 1,
  };
}

/** Announcements collected instead of sent: a backtest never notifies anyone. */
class RecordingNotifier implements Notifier {
  readonly channel = 'backtest';
  readonly seen: Announcement[] = [];
  announce(a: Announcement): Promise<void> {
    this.seen.push(a);
    return Promise.resolve();
  }
}

/** A backtest can never act: every call fails before it reaches anything. */
const NO_ACTIONS: ActionTarget = {
  execute: () => Promise.reject(new PermanentError('a backtest never acts')),
  check: () => Promise.resolve('not_started'),
};

/**
 * Replays the account's recorded metrics and deployments between `from` and `to` through the daemon's own
 * detection, grouping, correlation, evidence and drafting, on a throwaway in-memory store, with no
 * notifier and no action target (and the kill switch on), and reports what would have been proposed.
 */
export async function runBacktest(opts: BacktestOptions): Promise<{ plan: BacktestPlan; report: BacktestReport | null }> {
  const { policy, from, to, signal } = opts;
  if (!(to > from)) throw new Error('backtest: --to must be after --from');
  const plan = planBacktest(policy, from, to, opts.now, opts.maxLogQueries);
  if (!(await opts.confirm(plan))) return { plan, report: null };

  const points: Map<string, MetricPoint[]> = await prefetchMetrics(opts.world.metrics, plan.metrics.calls, signal, (d, n) => opts.onProgress?.('read', d, n));
  const pipelines = [...new Set(Object.values(policy.doc.services).flatMap((s) => s.pipelines))];
  const deployments: Deployment[] = pipelines.length > 0 ? await opts.world.deployments.list(pipelines, { start: (from - historyMs(policy) - policy.lookbackMs) as EpochMs, end: to }, signal) : [];

  const clock = new ManualClock(from);
  const store = new SqliteStore(':memory:');
  const notifier = new RecordingNotifier();
  const template = new TemplatePlanner(loadCatalog(policy.runbookDir, policy.doc.actions), policy.doc.actions);
  const deps: PipelineDeps = {
    policy,
    clock,
    store,
    metrics: new RecordedMetrics(points, () => clock.now()),
    logs: new BudgetedLogs(opts.world.logs, plan.maxLogQueries),
    deployments: new RecordedDeployments(deployments, () => clock.now()),
    actions: NO_ACTIONS,
    planner: template,
    fallbackPlanner: template,
    settings: pipelineSettings(policy),
    gate: openGate,
    run: new RunState('running'),
    pipelineMetrics: noMetrics,
    notifiers: [notifier],
    logger: opts.logger,
    detectorFor: daemonDetectorFor,
    killSwitch: () => Promise.resolve(true),
    publicUrl: '',
  };
  const watcher = new Watcher(deps);
  try {
    let done = 0;
    for (let t: number = from; t <= to; t += policy.pollEveryMs) {
      signal.throwIfAborted();
      clock.set(t);
      await watcher.runCycle();
      opts.onProgress?.('replay', ++done, plan.cycles);
    }
    const incidents = summarizeIncidents(await store.listIncidents({ limit: 100_000 }));
    const days = metricDays(policy.metrics, from, to);
    const noise = metricNoise(policy.metrics, incidents, days / Math.max(1, policy.metrics.length));
    const suggestions = suggestQuieter(noise, policy.metrics, points, incidents, daemonDetectorFor, { gapMs: policy.groupIntervalMs, matchMs: 10 * MINUTE, top: 5 });
    const likelyFalse = incidents.filter((i) => i.state === 'withdrawn' || i.suspect === null).length;
    return {
      plan,
      report: { from, to, metricDays: days, incidents, noise, suggestions, likelyFalsePer1000MetricDays: days > 0 ? (1000 * likelyFalse) / days : 0 },
    };
  } finally {
    watcher.stop();
    await store.close();
  }
}
