import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../cloud/ports.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Planner } from '../runbook/template-planner.js';
import type { Store } from '../store/store.js';
import type { StreamingDetector } from '../detect/detector.js';
import type { WatchedMetric } from '../policy/compile.js';

/** Everything the pipeline talks to, built once in the composition root. */
export interface PipelineDeps {
  readonly policy: CompiledPolicy;
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
  readonly planner: Planner;
  readonly notifiers: readonly Notifier[];
  readonly logger: Logger;
  readonly detectorFor: (m: WatchedMetric) => StreamingDetector;
  /** Whether the kill switch is on right now (policy flag, or an SSM parameter). */
  readonly killSwitch: (signal: AbortSignal) => Promise<boolean>;
  /** Base URL of the incident pages, for links in announcements. */
  readonly publicUrl: string;
}

/** One cycle's fixed facts: `now` is read once per cycle so every decision in it agrees. */
export interface CycleContext {
  readonly now: number;
  readonly signal: AbortSignal;
}
