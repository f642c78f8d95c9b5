import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import type { ActionCheck } from '../cloud/ports.js';
import { defineAction, verifyByCheck } from './action.js';
import { describeService, fleetCost, sameTaskDef, shortTaskDef, taskSize } from './ecs-read.js';
import { awsName, flag, intIn } from './params.js';

const schema = z
  .strictObject({
    cluster: awsName(255).default('default'),
    service: awsName(255),
    /** ECS allows up to 5000 tasks per service; the policy's min/max narrow it. */
    desiredCount: intIn(0, 5000).optional(),
    forceNewDeployment: flag.optional(),
    /** The task definition the service ran when the step was approved: a different one voids the approval. */
    fromTaskDefinition: awsName(1600).optional(),
  })
  .refine((p) => p.desiredCount !== undefined || p.forceNewDeployment === true, 'give desiredCount, forceNewDeployment: true, or both');
type P = z.output<typeof schema>;

const what = (p: P): string =>
  [p.desiredCount !== undefined ? `set the desired count to ${p.desiredCount}` : '', p.forceNewDeployment === true ? 'replace every task (same task definition)' : ''].filter(Boolean).join(' and ');

/**
 * ecs.updateService: desiredCount within the policy's bounds and/or forceNewDeployment. UpdateService takes no
 * token, so `check` reads the service: the desired count, and a deployment created after the step started.
 * `ecs.scaleService` and `ecs.forceNewDeployment` are the older names of its two uses.
 */
export const ecsUpdateService = defineAction<P>({
  name: 'ecs.updateService',
  description: 'change the desired task count of an ECS service and/or replace its tasks',
  risk: 'low',
  schema,
  iam: { read: ['ecs:DescribeServices', 'ecs:DescribeTaskDefinition'], write: ['ecs:UpdateService'], resource: 'arn:aws:ecs:*:*:*' },
  resources: (p) => [`ecs:${p.cluster}/${p.service}`],
  describe: (p) => `${what(p)} of ECS service ${p.service} in ${p.cluster}`,
  async preview(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    const before = svc.desiredCount ?? 0;
    const after = p.desiredCount ?? before;
    const changes = [`desiredCount: ${before} → ${after}`];
    const running = svc.runningCount ?? 0;
    if (p.forceNewDeployment === true) changes.push(`tasks replaced: ${running} running on ${shortTaskDef(svc.taskDefinition)}`);
    const size = after !== before ? await taskSize(ctx.aws, svc.taskDefinition, ctx.signal) : null;
    // Touched: every task replaced on a new deployment, else the tasks started or stopped.
    const tasks = p.forceNewDeployment === true ? Math.max(running, after) : Math.abs(after - before);
    return {
      summary: `${what(p)} of ECS service ${p.service} in ${p.cluster} (now ${before} desired, ${running} running)`,
      changes,
      resources: [`ecs:${p.cluster}/${p.service}`],
      source: 'cloud',
      blast: { tasks, ...(p.forceNewDeployment === true ? { trafficShare: 1 } : {}) },
      cost: after === before ? { kind: 'none', why: 'same task count' } : fleetCost(before, size, after, size),
    };
  },
  async preconditions(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    if (svc.status !== 'ACTIVE') return { ok: false, code: 'no_target', detail: `ECS service ${p.service} in ${p.cluster} is ${svc.status ?? 'unknown'}, not ACTIVE` };
    if (p.fromTaskDefinition !== undefined && !sameTaskDef(svc.taskDefinition, p.fromTaskDefinition)) {
      return { ok: false, code: 'target_changed', detail: `ECS service ${p.service} now runs ${shortTaskDef(svc.taskDefinition)}, not ${shortTaskDef(p.fromTaskDefinition)} as when the step was approved` };
    }
    return { ok: true };
  },
  async execute(ctx) {
    const p = ctx.params;
    const before = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    const out = await awsCall('ecs.UpdateService', ctx.signal, () =>
      ctx.aws.ecs.send(
        new UpdateServiceCommand({ cluster: p.cluster, service: p.service, ...(p.desiredCount !== undefined ? { desiredCount: p.desiredCount } : {}), ...(p.forceNewDeployment === true ? { forceNewDeployment: true } : {}) }),
        { abortSignal: ctx.signal },
      ),
    );
    const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
    const parts = [p.desiredCount !== undefined ? `set desired count of ECS service ${p.service} in ${p.cluster} from ${before.desiredCount ?? '?'} to ${p.desiredCount}` : '', p.forceNewDeployment === true ? `started a new deployment of ECS service ${p.service} in ${p.cluster} (same task definition)` : ''];
    const refs: Record<string, string> = primary?.id !== undefined ? { deploymentId: primary.id } : {};
    return { ok: true, summary: parts.filter(Boolean).join('; '), refs };
  },
  async check(ctx): Promise<ActionCheck> {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    if (p.desiredCount !== undefined && svc.desiredCount !== p.desiredCount) return 'not_started';
    if (p.forceNewDeployment !== true) return 'done';
    // Any deployment looks alike; only one created after this step started can be this step's.
    if (ctx.startedAt === undefined) return 'unknown';
    const mine = (svc.deployments ?? []).find((d) => (d.createdAt?.getTime() ?? 0) >= ctx.startedAt!);
    if (!mine) return p.desiredCount !== undefined ? 'unknown' : 'not_started';
    return mine.rolloutState === 'IN_PROGRESS' ? 'in_progress' : mine.rolloutState === 'FAILED' ? 'unknown' : 'done';
  },
  verify(ctx) {
    return verifyByCheck((c) => this.check(c), ctx, what(ctx.params));
  },
  simVerify: (world, p) => {
    const desired = world.serviceTasks(p.service)?.desired;
    if (p.desiredCount === undefined || desired === undefined) return { ok: true, detail: `${what(p)} of ${p.service}` };
    return { ok: desired === p.desiredCount, detail: `ECS service ${p.service} has ${desired} desired tasks (asked ${p.desiredCount})` };
  },
  simPreview: (world, p) => {
    const t = world.serviceTasks(p.service);
    const before = t?.desired;
    const after = p.desiredCount ?? before;
    const size = t ? { vcpu: t.vcpu, memoryGb: t.memoryGb } : null;
    return {
      summary: `${what(p)} of ECS service ${p.service} in ${p.cluster}${before !== undefined ? ` (now ${before} desired)` : ''}`,
      changes: before !== undefined && after !== undefined ? [`desiredCount: ${before} → ${after}`] : [],
      resources: [`ecs:${p.cluster}/${p.service}`],
      source: t ? 'cloud' : 'parameters',
      ...(before !== undefined && after !== undefined
        ? { blast: { tasks: p.forceNewDeployment === true ? Math.max(before, after) : Math.abs(after - before), ...(p.forceNewDeployment === true ? { trafficShare: 1 } : {}) }, cost: after === before ? ({ kind: 'none', why: 'same task count' } as const) : fleetCost(before, size, after, size) }
        : { cost: { kind: 'unknown', why: 'the simulated service states no task count' } as const }),
    };
  },
  sim: (world, p, at) => {
    if (p.desiredCount !== undefined) world.scaleService(p.service, p.desiredCount, at);
    if (p.forceNewDeployment === true) world.restartService(p.service, at);
    return { ok: true, summary: p.forceNewDeployment === true && p.desiredCount === undefined ? `restarted the tasks of ${p.service}` : `${what(p)} of ${p.service}` };
  },
});
