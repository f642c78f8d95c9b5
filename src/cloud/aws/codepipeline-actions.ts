import {
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  RollbackStageCommand,
  StopPipelineExecutionCommand,
  type CodePipelineClient,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient, type Service } from '@aws-sdk/client-ecs';
import { PermanentError, PortError } from '../../core/errors.js';
import type { ActionCall, ActionCheck, ActionResult, ActionTarget } from '../ports.js';
import type { CodePipelineDeploymentSource } from './codepipeline-deployments.js';
import { awsCall } from './errors.js';

/** The actions this target runs. Everything else is refused. */
export const AWS_ACTIONS = ['codepipeline.rollback', 'codepipeline.stopExecution', 'ecs.forceNewDeployment', 'ecs.scaleService'] as const;
export type AwsAction = (typeof AWS_ACTIONS)[number];

type Params = ActionCall['params'];

function str(p: Params, name: string, action: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v === '') throw new PermanentError(`${action}: parameter "${name}" must be a non-empty string`);
  return v;
}

function optStr(p: Params, name: string, action: string): string | undefined {
  return p[name] === undefined ? undefined : str(p, name, action);
}

function int(p: Params, name: string, action: string, min: number, max: number): number {
  const v = typeof p[name] === 'string' ? Number(p[name]) : p[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new PermanentError(`${action}: parameter "${name}" must be an integer ${min}..${max}`);
  return v;
}

function errorName(err: unknown): string | undefined {
  const c = err instanceof PortError ? err.cause : err;
  return typeof c === 'object' && c !== null && 'name' in c && typeof c.name === 'string' ? c.name : undefined;
}

/**
 * ActionTarget for CodePipeline and ECS. Neither RollbackStage nor UpdateService takes an
 * idempotency token, so `check` reads the cloud's state instead (a rollback execution to the same
 * target after the suspect, the service's desired count); where the cloud cannot tell, it says
 * 'unknown' and a person decides.
 */
export class AwsActionTarget implements ActionTarget {
  /** Executions by key in this process, so a retried `execute` with the same key does not act twice. */
  private readonly done = new Map<string, ActionResult>();

  constructor(
    private readonly codepipeline: CodePipelineClient,
    private readonly ecs: ECSClient,
    private readonly pipelines: Pick<CodePipelineDeploymentSource, 'pipelineType'>,
  ) {}

  async execute(call: ActionCall, idempotencyKey: string, signal: AbortSignal): Promise<ActionResult> {
    const seen = this.done.get(idempotencyKey);
    if (seen) return seen;
    const result = await this.run(call, idempotencyKey, signal);
    if (result.ok) this.done.set(idempotencyKey, result);
    return result;
  }

  async check(call: ActionCall, idempotencyKey: string, signal: AbortSignal): Promise<ActionCheck> {
    if (this.done.has(idempotencyKey)) return 'done';
    switch (call.action as AwsAction) {
      case 'codepipeline.rollback': {
        const { pipeline, stage, from } = this.rollbackParams(call);
        const target = await this.rollbackTarget(pipeline, stage, call, signal);
        const existing = await this.existingRollback(pipeline, target, from, signal);
        if (!existing) return 'not_started';
        if (existing.status === 'Succeeded') return 'done';
        if (existing.status === 'InProgress' || existing.status === 'Stopping') return 'in_progress';
        return 'unknown'; // it ran and failed or was stopped: re-running is a person's call
      }
      case 'codepipeline.stopExecution': {
        const a = call.action;
        const pipeline = str(call.params, 'pipeline', a);
        const id = str(call.params, 'executionId', a);
        const out = await awsCall('codepipeline.GetPipelineExecution', signal, () =>
          this.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName: pipeline, pipelineExecutionId: id }), { abortSignal: signal }),
        );
        const s = out.pipelineExecution?.status;
        if (s === 'Stopped') return 'done';
        if (s === 'Stopping') return 'in_progress';
        // Still running, or finished by itself: stopping (again) is harmless either way.
        return 'not_started';
      }
      case 'ecs.scaleService': {
        const svc = await this.describe(call, signal);
        return svc.desiredCount === int(call.params, 'desiredCount', call.action, 0, 10_000) ? 'done' : 'not_started';
      }
      case 'ecs.forceNewDeployment':
        // UpdateService keeps no token, and any deployment looks the same: only a person can tell.
        await this.describe(call, signal);
        return 'unknown';
      default:
        throw new PermanentError(`action "${call.action}" is not one the AWS target runs (${AWS_ACTIONS.join(', ')})`);
    }
  }

  private async run(call: ActionCall, key: string, signal: AbortSignal): Promise<ActionResult> {
    switch (call.action as AwsAction) {
      case 'codepipeline.rollback':
        return this.rollback(call, signal);
      case 'codepipeline.stopExecution':
        return this.stopExecution(call, key, signal);
      case 'ecs.forceNewDeployment': {
        const { cluster, service } = this.serviceParams(call);
        const out = await awsCall('ecs.UpdateService', signal, () =>
          this.ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true }), { abortSignal: signal }),
        );
        const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
        return { ok: true, summary: `started a new deployment of ECS service ${service} in ${cluster} (same task definition)`, refs: primary?.id !== undefined ? { deploymentId: primary.id } : {} };
      }
      case 'ecs.scaleService': {
        const { cluster, service } = this.serviceParams(call);
        const desiredCount = int(call.params, 'desiredCount', call.action, 0, 10_000);
        const before = await this.describe(call, signal);
        await awsCall('ecs.UpdateService', signal, () => this.ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }), { abortSignal: signal }));
        return { ok: true, summary: `set desired count of ECS service ${service} in ${cluster} from ${before.desiredCount ?? '?'} to ${desiredCount}` };
      }
      default:
        throw new PermanentError(`action "${call.action}" is not one the AWS target runs (${AWS_ACTIONS.join(', ')})`);
    }
  }

  private rollbackParams(call: ActionCall): { pipeline: string; stage: string; from: string | undefined } {
    const a = call.action;
    return { pipeline: str(call.params, 'pipeline', a), stage: str(call.params, 'stage', a), from: optStr(call.params, 'fromExecutionId', a) };
  }

  private async rollback(call: ActionCall, signal: AbortSignal): Promise<ActionResult> {
    const { pipeline, stage, from } = this.rollbackParams(call);
    const type = await this.pipelines.pipelineType(pipeline, signal);
    if (type !== 'V2') throw new PermanentError(`codepipeline.rollback: pipeline ${pipeline} is ${type}; stage rollback needs a V2 pipeline`);
    const target = await this.rollbackTarget(pipeline, stage, call, signal);
    const existing = await this.existingRollback(pipeline, target, from, signal);
    if (existing && existing.status !== 'Failed' && existing.status !== 'Stopped') {
      return { ok: true, summary: `stage ${stage} of ${pipeline} is already rolling back to ${target} (execution ${existing.pipelineExecutionId ?? '?'})`, refs: { pipelineExecutionId: existing.pipelineExecutionId ?? '', targetExecutionId: target } };
    }
    const out = await awsCall('codepipeline.RollbackStage', signal, () =>
      this.codepipeline.send(new RollbackStageCommand({ pipelineName: pipeline, stageName: stage, targetPipelineExecutionId: target }), { abortSignal: signal }),
    );
    return {
      ok: true,
      summary: `rolled stage ${stage} of ${pipeline} back to execution ${target}`,
      refs: { pipelineExecutionId: out.pipelineExecutionId ?? '', targetExecutionId: target },
    };
  }

  /** The explicit target, or the newest non-rollback execution that succeeded in the stage before the suspect. */
  private async rollbackTarget(pipeline: string, stage: string, call: ActionCall, signal: AbortSignal): Promise<string> {
    const explicit = optStr(call.params, 'targetExecutionId', call.action);
    if (explicit !== undefined) return explicit;
    const from = optStr(call.params, 'fromExecutionId', call.action);
    const succeeded = await this.listExecutions(pipeline, signal, stage);
    const fromStart = succeeded.find((s) => s.pipelineExecutionId === from)?.startTime?.getTime();
    const candidates = succeeded.filter(
      (s) => s.executionType !== 'ROLLBACK' && s.pipelineExecutionId !== from && (fromStart === undefined || (s.startTime?.getTime() ?? 0) < fromStart),
    );
    // Without a suspect, the newest success is presumably the bad one: go one further back.
    const pick = from === undefined ? candidates[1] : candidates[0];
    if (pick?.pipelineExecutionId === undefined) throw new PermanentError(`codepipeline.rollback: no earlier execution of ${pipeline} succeeded in stage ${stage}`);
    return pick.pipelineExecutionId;
  }

  /** A rollback execution to `target` that started after the suspect (if named). */
  private async existingRollback(pipeline: string, target: string, from: string | undefined, signal: AbortSignal): Promise<PipelineExecutionSummary | undefined> {
    const recent = await this.listExecutions(pipeline, signal);
    const fromStart = from === undefined ? undefined : recent.find((s) => s.pipelineExecutionId === from)?.startTime?.getTime();
    return recent.find(
      (s) =>
        s.executionType === 'ROLLBACK' &&
        s.rollbackMetadata?.rollbackTargetPipelineExecutionId === target &&
        (fromStart === undefined || (s.startTime?.getTime() ?? 0) >= fromStart),
    );
  }

  private async listExecutions(pipeline: string, signal: AbortSignal, succeededInStage?: string): Promise<PipelineExecutionSummary[]> {
    const out: PipelineExecutionSummary[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('codepipeline.ListPipelineExecutions', signal, () =>
        this.codepipeline.send(
          new ListPipelineExecutionsCommand({
            pipelineName: pipeline,
            maxResults: 100,
            ...(succeededInStage !== undefined ? { filter: { succeededInStage: { stageName: succeededInStage } } } : {}),
            ...(token !== undefined ? { nextToken: token } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      out.push(...(page.pipelineExecutionSummaries ?? []));
      token = page.nextToken !== undefined && page.nextToken !== '' ? page.nextToken : undefined;
    } while (token !== undefined && out.length < 300);
    return out;
  }

  private async stopExecution(call: ActionCall, key: string, signal: AbortSignal): Promise<ActionResult> {
    const a = call.action;
    const pipeline = str(call.params, 'pipeline', a);
    const id = str(call.params, 'executionId', a);
    const abandon = call.params.abandon === true;
    const reason = `cloudops-watcher ${key}${typeof call.params.reason === 'string' ? `: ${call.params.reason}` : ''}`.slice(0, 200);
    try {
      await awsCall('codepipeline.StopPipelineExecution', signal, () =>
        this.codepipeline.send(new StopPipelineExecutionCommand({ pipelineName: pipeline, pipelineExecutionId: id, abandon, reason }), { abortSignal: signal }),
      );
    } catch (err) {
      const name = errorName(err);
      if (name === 'DuplicatedStopRequestException') return { ok: true, summary: `execution ${id} of ${pipeline} was already stopping`, refs: { pipelineExecutionId: id } };
      if (name === 'PipelineExecutionNotStoppableException') return { ok: true, summary: `execution ${id} of ${pipeline} had already finished; nothing to stop`, refs: { pipelineExecutionId: id } };
      throw err;
    }
    return { ok: true, summary: `${abandon ? 'stopped and abandoned' : 'stopping (letting running actions finish)'} execution ${id} of ${pipeline}`, refs: { pipelineExecutionId: id } };
  }

  private serviceParams(call: ActionCall): { cluster: string; service: string } {
    return { cluster: str(call.params, 'cluster', call.action), service: str(call.params, 'service', call.action) };
  }

  private async describe(call: ActionCall, signal: AbortSignal): Promise<Service> {
    const { cluster, service } = this.serviceParams(call);
    const out = await awsCall('ecs.DescribeServices', signal, () => this.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }));
    const svc = out.services?.find((s) => s.serviceName === service || s.serviceArn === service);
    if (!svc) throw new PermanentError(`ECS service ${service} not found in cluster ${cluster}: ${(out.failures ?? []).map((f) => f.reason ?? '').join(', ')}`);
    return svc;
  }
}
