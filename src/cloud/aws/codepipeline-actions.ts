import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Action, ActionContext, AwsActionClients } from '../../actions/action.js';
import { ACTION_NAMES, parseCall } from '../../actions/catalogue.js';
import { PermanentError } from '../../core/errors.js';
import type { EpochMs } from '../../core/time.js';
import type { ActionCall, ActionCheck, ActionResult, ActionTarget, Precondition, Preview, StepVerification } from '../ports.js';
import type { CodePipelineDeploymentSource } from './codepipeline-deployments.js';

/** Every action the catalogue defines; the AWS target runs all of them (src/actions/catalogue.ts). */
export const AWS_ACTIONS = ACTION_NAMES;

export interface AwsActionTargetClients {
  readonly codepipeline: CodePipelineClient;
  readonly ecs: ECSClient;
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
}

/**
 * ActionTarget on real AWS: one dispatch into the action catalogue, no per-action switch here. Nothing is
 * remembered in the process: idempotency lives in the cloud (client tokens, tags, the state `check` reads),
 * so a restarted daemon knows what an older one did.
 */
export class AwsActionTarget implements ActionTarget {
  private readonly aws: AwsActionClients;

  constructor(clients: AwsActionTargetClients, pipelines: Pick<CodePipelineDeploymentSource, 'pipelineType'>) {
    this.aws = { ...clients, pipelineType: (p, s) => pipelines.pipelineType(p, s) };
  }

  private context(call: ActionCall, key: string, signal: AbortSignal, startedAt?: EpochMs): { run: ActionContext<unknown>; action: ReturnType<typeof parsed>['action'] } {
    const { action, params } = parsed(call);
    return { action, run: { params, key, signal, aws: this.aws, startedAt } };
  }

  async execute(call: ActionCall, key: string, signal: AbortSignal): Promise<ActionResult> {
    const { action, run } = this.context(call, key, signal);
    if (action.manual === true) throw new PermanentError(`${call.action} is a step for a person; the AWS target does not run it`);
    return action.execute(run);
  }

  async check(call: ActionCall, key: string, signal: AbortSignal, opts: { readonly startedAt?: EpochMs } = {}): Promise<ActionCheck> {
    const { action, run } = this.context(call, key, signal, opts.startedAt);
    return action.check(run);
  }

  async verify(call: ActionCall, key: string, signal: AbortSignal, opts: { readonly startedAt: EpochMs; readonly result: ActionResult }): Promise<StepVerification> {
    const { action, run } = this.context(call, key, signal, opts.startedAt);
    return action.verify(run, opts.result);
  }

  async preview(call: ActionCall, signal: AbortSignal): Promise<Preview> {
    const { action, run } = this.context(call, 'preview', signal);
    return action.preview(run);
  }

  async preconditions(call: ActionCall, key: string, signal: AbortSignal): Promise<Precondition> {
    const p = parseCall(call);
    if (!p.ok) return { ok: false, code: 'invalid_params', detail: p.problems.map((x) => x.message).join('; ') };
    return p.entry.action.preconditions({ params: p.params, key, signal, aws: this.aws });
  }
}

function parsed(call: ActionCall): { action: Action; params: unknown } {
  const p = parseCall(call);
  if (!p.ok) throw new PermanentError(`${call.action}: ${p.problems.map((x) => x.message).join('; ')}`);
  return { action: p.entry.action, params: p.params };
}
