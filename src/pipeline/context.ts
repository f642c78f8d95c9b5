import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { EpochMs } from '../core/time.js';
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../cloud/ports.js';
import type { CompiledPolicy, WatchedMetric } from '../policy/compile.js';
import type { Planner } from '../runbook/planner.js';
import type { LeaseFence } from '../store/lease.js';
import type { Store } from '../store/store.js';
import type { StreamingDetector } from '../detect/detector.js';
import type { MetricEvent } from '../incident/grouping.js';
import type { PipelineSettings } from './settings.js';
import type { PipelineMetrics } from './metrics.js';
import type { RunState } from './run-state.js';

/**
 * Asked before a stage starts work on an item and before an execution step starts: null lets it go,
 * a reason holds it back (logged; the item waits for a later cycle). The leader-lease check plugs in
 * here; draining (shutdown) uses the same hook.
 */
export type StageGate = (ctx: CycleContext, stage: string) => Promise<string | null>;

/** Everything the pipeline talks to, built once in the composition root. */
export interface PipelineDeps {
  readonly policy: CompiledPolicy;
  readonly settings: PipelineSettings;
  readonly clock: Clock;
  readonly store: Store;
  readonly metrics: MetricSource;
  /**
   * What the poll cycle reads new datapoints through, when it differs from `metrics` (on AWS: adaptive
   * polling, which returns only the metrics due this cycle). Range reads for evidence use `metrics`.
   */
  readonly observeMetrics?: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
  readonly actions: ActionTarget;
  /** Drafts runbooks (the template planner, or the agent). */
  readonly planner: Planner;
  /** Drafts when `planner` failed its attempts (the last attempt); the same object when `planner` is the template planner. */
  readonly fallbackPlanner: Planner;
  readonly notifiers: readonly Notifier[];
  readonly logger: Logger;
  readonly detectorFor: (m: WatchedMetric) => StreamingDetector;
  /** Whether the kill switch is on right now (policy flag, or an SSM parameter). */
  readonly killSwitch: (signal: AbortSignal) => Promise<boolean>;
  /** Base URL of the incident pages, for links in announcements. */
  readonly publicUrl: string;
  /** The wrapper point before stage work and steps (leader lease, draining). No-op by default. */
  readonly gate: StageGate;
  /**
   * The fencing token every execution step claim carries (the leader lease's), checked by the store in
   * the claim's transaction. Absent: one process owns the store and claims are not fenced.
   */
  readonly fence?: () => LeaseFence;
  /** The daemon's lifecycle: once draining, nothing new starts. */
  readonly run: RunState;
  readonly pipelineMetrics: PipelineMetrics;
}

/**
 * One cycle's fixed facts: `now` is read once per cycle so every decision in it agrees; `deadline` is
 * when the work must be done (on the pipeline's clock); `signal` aborts at the deadline or at shutdown.
 */
export interface CycleContext {
  readonly now: EpochMs;
  readonly deadline: EpochMs;
  readonly signal: AbortSignal;
}

/** The context of the incident stages: the cycle's facts and the datapoints this cycle observed. */
export interface ObservedCycle extends CycleContext {
  readonly events: readonly MetricEvent[];
}

/** A gate that lets everything through. */
export const openGate: StageGate = async () => null;

/** Whether `stage` may start work now: null, or why not (draining first, then the gate: lease, …). */
export async function admit(deps: PipelineDeps, ctx: CycleContext, stage: string): Promise<string | null> {
  if (ctx.signal.aborted) return 'the cycle was aborted';
  return deps.run.admits() ?? (await deps.gate(ctx, stage));
}
