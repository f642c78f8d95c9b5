import type { EpochMs } from '../core/time.js';

/**
 * The ports: everything the pipeline needs from the outside world. Real AWS adapters (src/cloud/aws),
 * the embedded simulated cloud (src/cloud/sim) and test doubles implement these and nothing more.
 * Every call takes an AbortSignal; failures are PortError (src/core/errors.ts) with `retryable` set.
 */

export interface TimeRange {
  readonly start: EpochMs;
  readonly end: EpochMs;
}

/** One watched metric, as the policy names it. `id` is unique per policy and stable across restarts. */
export interface MetricQuery {
  readonly id: string;
  readonly service: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Average, Sum, Maximum, p99, TM(10%:90%) … */
  readonly stat: string;
  readonly periodSec: number;
  /** Metric math over other queries of the same service, instead of namespace/metricName. */
  readonly expression?: string;
  readonly unit?: string;
}

export interface MetricPoint {
  readonly t: EpochMs;
  readonly v: number;
}

/** Datapoints in ascending time. A missing datapoint is absent (a gap), never zero. */
export interface MetricSeries {
  readonly id: string;
  readonly points: readonly MetricPoint[];
  /** CloudWatch said the data is partial (PartialData / status code); the caller may re-ask later. */
  readonly partial?: boolean;
  /** CloudWatch's anomaly band at the same timestamps, when it was asked for (detector kind 'cloudwatchBand'). */
  readonly band?: { readonly upper: readonly MetricPoint[]; readonly lower: readonly MetricPoint[] };
}

export interface MetricSource {
  fetch(queries: readonly MetricQuery[], range: TimeRange, signal: AbortSignal): Promise<MetricSeries[]>;
}

export interface LogRecord {
  readonly t: EpochMs;
  readonly group: string;
  readonly message: string;
}

export interface LogQuery {
  readonly groups: readonly string[];
  readonly range: TimeRange;
  /** At most this many records come back (the adapter caps it further by its service's limits). */
  readonly limit: number;
  /** Only lines matching this (case-insensitive substring or /regex/); omitted = all lines. */
  readonly filter?: string;
}

export interface LogSource {
  fetch(query: LogQuery, signal: AbortSignal): Promise<LogRecord[]>;
}

export type DeploymentStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped' | 'Stopping' | 'Superseded' | 'Cancelled';

/** One pipeline execution, with when its deploy stage actually ran. */
export interface Deployment {
  /** Pipeline execution id. */
  readonly id: string;
  readonly pipeline: string;
  readonly pipelineType?: 'V1' | 'V2';
  readonly status: DeploymentStatus;
  readonly startedAt: EpochMs;
  readonly endedAt?: EpochMs;
  /** The deploy stage of this execution. */
  readonly deployStage?: string;
  readonly deployStartedAt?: EpochMs;
  readonly deployEndedAt?: EpochMs;
  /** Who or what started it: a user ARN/name, a webhook, a schedule. */
  readonly triggeredBy?: string;
  readonly triggerType?: string;
  readonly revisionId?: string;
  readonly revisionSummary?: string;
  readonly revisionUrl?: string;
  /** Who wrote the source revision (a git author email or login), when the source says. */
  readonly author?: string;
  /** Lines or files changed, when known. */
  readonly changeSize?: number;
  /** This execution was a rollback of another. */
  readonly rollbackOf?: string;
  /**
   * Multi-stage rollouts (canary, then full), in order, when the source knows them: a rollout still in
   * progress is already live on the stages that finished.
   */
  readonly stages?: readonly DeployStageRun[];
}

/** One deploy stage of an execution. */
export interface DeployStageRun {
  readonly name: string;
  readonly startedAt: EpochMs;
  /** Absent while the stage runs. */
  readonly endedAt?: EpochMs;
  /** Share of the traffic on the new code once it finished, when known (a canary: 0.1). */
  readonly share?: number;
}

export interface DeploymentSource {
  /** Executions of these pipelines that started or ended inside `range`. */
  list(pipelines: readonly string[], range: TimeRange, signal: AbortSignal): Promise<Deployment[]>;
}

/** One allow-listed action with its parameters, as a runbook step states it. */
export interface ActionCall {
  readonly action: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
}

export interface ActionResult {
  readonly ok: boolean;
  /** What the action changed, in plain words, for the audit record. */
  readonly summary: string;
  /** Provider references (execution ids, deployment ids). */
  readonly refs?: Readonly<Record<string, string>>;
}

/** Where a step stands in the cloud, asked after a crash before anything is re-run. */
export type ActionCheck = 'done' | 'not_started' | 'in_progress' | 'unknown';

/** After a step's call returned: does the cloud show the effect the action promises (src/actions: each action's `verify`)? */
export type StepVerification = { readonly ok: boolean; readonly detail: string };

/** What a step will change, read from the cloud (src/actions: each action's `preview`). */
export interface Preview {
  /** One line a person reads on the page and in the approval request. */
  readonly summary: string;
  /** "field: before → after" lines. */
  readonly changes: readonly string[];
  /** Resources touched (cooldown keys and blast radius). */
  readonly resources: readonly string[];
  /** Whether the cloud was asked or the preview only restates the parameters. */
  readonly source: 'cloud' | 'parameters';
  /** What the step touches beyond the resource names: tasks, functions, the share of traffic (where known). */
  readonly blast?: BlastRadius;
  /** What the step does to the hourly bill, priced with the policy's prices (src/execute/step-preview.ts). */
  readonly cost?: CostBasis;
}

export interface BlastRadius {
  /** ECS tasks started, stopped or replaced. */
  readonly tasks?: number;
  /** Lambda functions (aliases) repointed. */
  readonly functions?: number;
  /** Share of the resource's traffic the change reaches, 0..1, where the cloud says. */
  readonly trafficShare?: number;
}

export interface TaskFleet {
  readonly tasks: number;
  readonly vcpu: number;
  readonly memoryGb: number;
}

/** The inputs of a step's cost change; the price list is the policy's, applied outside the action. */
export type CostBasis =
  | { readonly kind: 'none'; readonly why: string }
  /** Tasks of one service before and after (a scale changes the count, a rollback may change the size). */
  | { readonly kind: 'fargate'; readonly before: TaskFleet; readonly after: TaskFleet }
  | { readonly kind: 'lambdaConcurrency'; readonly concurrencyDelta: number; readonly memoryGb: number }
  | { readonly kind: 'unknown'; readonly why: string };

/** `recovered`: the service is healthy again before any step acted, so the approved fix is no longer needed. */
export type PreconditionCode = 'target_changed' | 'not_latest' | 'no_target' | 'not_supported' | 'invalid_params' | 'recovered';

/** Checked immediately before the call: a failure voids the approval (the world is not the one approved). */
export type Precondition = { readonly ok: true } | { readonly ok: false; readonly code: PreconditionCode; readonly detail: string };

export interface ActionTarget {
  /** Runs one action. `idempotencyKey` is unique per incident, runbook hash and step. */
  execute(call: ActionCall, idempotencyKey: string, signal: AbortSignal): Promise<ActionResult>;
  /** Whether the action with this key already happened; `startedAt` = when the step was recorded as started. */
  check(call: ActionCall, idempotencyKey: string, signal: AbortSignal, opts?: { readonly startedAt?: EpochMs }): Promise<ActionCheck>;
  /** What the step would change (read-only). Absent on targets that cannot tell. */
  preview?(call: ActionCall, signal: AbortSignal): Promise<Preview>;
  /** After the call returned ok: the action's own verify (read-only). Absent = nothing to check beyond the call's answer. */
  verify?(call: ActionCall, idempotencyKey: string, signal: AbortSignal, opts: { readonly startedAt: EpochMs; readonly result: ActionResult }): Promise<StepVerification>;
  /** Re-checked immediately before `execute`. Absent = nothing to check. */
  preconditions?(call: ActionCall, idempotencyKey: string, signal: AbortSignal): Promise<Precondition>;
}

/** What a notifier is told to announce. Rendering per channel lives in the channel. */
export interface Announcement {
  readonly kind: 'proposal' | 'decision' | 'reminder' | 'final';
  readonly incidentId: string;
  /** Short plain-text line, ≤ 100 ASCII characters. */
  readonly title: string;
  readonly text: string;
  readonly url: string;
  readonly state: string;
}

export interface Notifier {
  readonly channel: string;
  announce(a: Announcement, signal: AbortSignal): Promise<void>;
}
