import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import type { ActionCheck, ActionResult, Precondition, Preview, StepVerification } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';

/**
 * The shape of one catalogue action (issue 12): everything about an action lives in its module, and
 * the policy cross-check, the draft gate, the page, the AWS target, the simulated cloud and
 * iam-policy.json all read it from there.
 */

/** The SDK clients an action may call, and the one read the rollback needs from the deployment source. */
export interface AwsActionClients {
  readonly codepipeline: CodePipelineClient;
  readonly ecs: ECSClient;
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  pipelineType(pipeline: string, signal: AbortSignal): Promise<'V1' | 'V2'>;
}

/** What each cloud-facing function of an action is handed: parsed parameters, the durable key, a deadline. */
export interface ActionContext<P> {
  readonly params: P;
  /** Durable idempotency key: incident id + runbook hash + step index (never a process-local counter). */
  readonly key: string;
  readonly signal: AbortSignal;
  readonly aws: AwsActionClients;
  /** When the step was recorded as started (check uses it to tell a change made by this step from older ones). */
  readonly startedAt?: EpochMs | undefined;
}

export type { Precondition, PreconditionCode, Preview } from '../cloud/ports.js';

/** The simulated cloud as the actions' effects see it; SimCloud implements it. */
export interface SimWorld {
  /** Rolls `pipeline` back to `target` (or the execution before the latest): ends the undone deployments' effects. */
  rollbackPipeline(pipeline: string, target: string | undefined, at: number): ActionResult;
  /** Undoes the newest deployment of `service` (a task-definition or alias rollback). */
  rollbackService(service: string, at: number): ActionResult;
  /** Replaces the service's tasks (clears effects that a restart heals). */
  restartService(service: string, at: number): void;
  /** Sets the desired task count of `service`; remembered, so later previews and checks read it. */
  scaleService(service: string, desired: number, at: number): void;
  /** Enables or disables the inbound transition of a pipeline stage; remembered. */
  setTransition(pipeline: string, stage: string, enabled: boolean, at: number): void;
  /** Whether the inbound transition of a pipeline stage is enabled (the default until an action disables it). */
  transitionEnabled(pipeline: string, stage: string): boolean;
  /** Stops an execution; remembered. */
  stopExecution(pipeline: string, executionId: string, at: number): void;
  /** When an action stopped this execution, or undefined. */
  executionStoppedAt(pipeline: string, executionId: string): number | undefined;
  /** The ECS tasks of `service` (count, as the scenario states it or an action last set it, and size), or null when the scenario does not say. */
  serviceTasks(service: string): { readonly desired: number; readonly vcpu: number; readonly memoryGb: number } | null;
  /** The deployments a rollback would undo: of `pipeline` to `target`, or the newest of a service. */
  wouldUndo(scope: { readonly pipeline: string; readonly target: string | undefined } | { readonly service: string }, at: number): readonly string[];
}

export interface IamNeeds {
  /** Read calls the preview, preconditions and check make (granted in shadow mode too). */
  readonly read: readonly string[];
  /** The mutating calls (never granted in iam-policy.readonly.json). */
  readonly write: readonly string[];
  /** Resource ARN pattern the statements are scoped to. */
  readonly resource: string;
}

export interface ActionSpec<P> {
  readonly name: string;
  readonly description: string;
  /** Lowest risk a runbook may state for this action; the policy may raise it. */
  readonly risk: 'low' | 'medium' | 'high';
  /** zod schema of the parameters: types and absolute bounds (the policy narrows them further). */
  readonly schema: z.ZodType<P>;
  readonly iam: IamNeeds;
  /** A person does it (marks it done on the page or the CLI); the runner hands it over, never calls the cloud. */
  readonly manual?: boolean;
  /** Resources touched, from the parameters alone (cooldown keys: "ecs:prod/api"). */
  resources(p: P): readonly string[];
  /** The preview without reading the cloud: what the page shows before a cloud read. */
  describe(p: P): string;
  preview(ctx: ActionContext<P>): Promise<Preview>;
  preconditions(ctx: ActionContext<P>): Promise<Precondition>;
  execute(ctx: ActionContext<P>): Promise<ActionResult>;
  /** From the cloud: did the step with this key already happen? */
  check(ctx: ActionContext<P>): Promise<ActionCheck>;
  /** Right after the call returned ok (read-only): the cloud shows the effect this action promises; not ok stops the run. */
  verify(ctx: ActionContext<P>, result: ActionResult): Promise<StepVerification>;
  /** The simulated cloud's effect. */
  sim(world: SimWorld, p: P, at: number): ActionResult;
  /** The simulated cloud's verify (read-only); absent = the recorded call's own answer. */
  simVerify?(world: SimWorld, p: P, at: number): StepVerification;
  /** The simulated cloud's preview (read-only); absent = the preview from the parameters alone. */
  simPreview?(world: SimWorld, p: P, at: number): Preview;
}

/** A catalogue action with its parameter type erased, so different actions share one map. */
export type Action = ActionSpec<unknown>;

/** Declares an action; the type parameter is checked here once and erased for the catalogue. */
export function defineAction<P>(spec: ActionSpec<P>): Action {
  // Method parameters are bivariant, so the typed spec is already an Action.
  return spec;
}

/**
 * A verify that reads the action's own `check`: done, or started and in progress in the cloud (a rollout that
 * takes minutes), is the effect seen; anything else is not. `effect` names what should be seen.
 */
export async function verifyByCheck<P>(check: (ctx: ActionContext<P>) => Promise<ActionCheck>, ctx: ActionContext<P>, effect: string): Promise<StepVerification> {
  const seen = await check(ctx);
  if (seen === 'done') return { ok: true, detail: `the cloud shows ${effect}` };
  if (seen === 'in_progress') return { ok: true, detail: `the cloud shows ${effect} under way` };
  return { ok: false, detail: `the cloud does not show ${effect} (it reads ${seen})` };
}
