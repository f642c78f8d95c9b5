import { ListTaskDefinitionsCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import { PermanentError } from '../core/errors.js';
import { defineAction, verifyByCheck, type ActionContext } from './action.js';
import { describeService, fleetCost, sameTaskDef, shortTaskDef, taskSize } from './ecs-read.js';
import { awsName } from './params.js';

const schema = z.strictObject({
  cluster: awsName(255).default('default'),
  service: awsName(255),
  /** The suspect revision: the approval holds only while the service still runs it. */
  fromTaskDefinition: awsName(1600).optional(),
  /** Explicit target; omitted = the newest ACTIVE revision of the same family below the current one. */
  toTaskDefinition: awsName(1600).optional(),
});
type P = z.output<typeof schema>;

/** The revision to go back to: explicit, or the previous ACTIVE revision of the family the service runs. */
async function target(ctx: ActionContext<P>, current: string | undefined): Promise<string> {
  if (ctx.params.toTaskDefinition !== undefined) return ctx.params.toTaskDefinition;
  const [family, rev] = shortTaskDef(current).split(':');
  const revision = Number(rev);
  if (family === undefined || !Number.isInteger(revision)) throw new PermanentError(`ECS service ${ctx.params.service} runs ${current ?? 'nothing'}: no family:revision to step back from`);
  const out = await awsCall('ecs.ListTaskDefinitions', ctx.signal, () =>
    ctx.aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', maxResults: 100 }), { abortSignal: ctx.signal }),
  );
  const older = (out.taskDefinitionArns ?? [])
    .map((arn) => ({ arn, short: shortTaskDef(arn) }))
    .filter((t) => t.short.split(':')[0] === family && Number(t.short.split(':')[1]) < revision)
    .sort((a, b) => Number(b.short.split(':')[1]) - Number(a.short.split(':')[1]));
  if (!older[0]) throw new PermanentError(`task definition family ${family} has no ACTIVE revision before ${revision}`);
  return older[0].arn;
}

/**
 * ecs.rollbackService: UpdateService to the previous task-definition revision. No token exists; `check` reads
 * which revision the service runs and whether its primary deployment finished.
 */
export const ecsRollbackService = defineAction<P>({
  name: 'ecs.rollbackService',
  description: 'point an ECS service back at its previous task-definition revision',
  risk: 'medium',
  schema,
  iam: { read: ['ecs:DescribeServices', 'ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions'], write: ['ecs:UpdateService'], resource: 'arn:aws:ecs:*:*:*' },
  resources: (p) => [`ecs:${p.cluster}/${p.service}`],
  describe: (p) => `roll ECS service ${p.service} in ${p.cluster} back to ${p.toTaskDefinition !== undefined ? shortTaskDef(p.toTaskDefinition) : 'its previous task-definition revision'}`,
  async preview(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    const to = await target(ctx, svc.taskDefinition);
    const changes = [`taskDefinition: ${shortTaskDef(svc.taskDefinition)} → ${shortTaskDef(to)}`, `tasks replaced: ${svc.runningCount ?? 0}`];
    const [now, then] = [await taskSize(ctx.aws, svc.taskDefinition, ctx.signal), await taskSize(ctx.aws, to, ctx.signal)];
    const desired = svc.desiredCount ?? 0;
    // The older revision may be a different size: the same tasks then cost something else.
    const cost = now !== null && then !== null ? fleetCost(desired, now, desired, then) : ({ kind: 'none', why: 'a rollback' } as const);
    return {
      summary: `roll ECS service ${p.service} in ${p.cluster} back from ${shortTaskDef(svc.taskDefinition)} to ${shortTaskDef(to)}`,
      changes,
      resources: [`ecs:${p.cluster}/${p.service}`],
      source: 'cloud',
      blast: { tasks: Math.max(svc.runningCount ?? 0, desired), trafficShare: 1 },
      cost: cost.kind === 'none' ? { kind: 'none', why: 'a rollback' } : cost,
    };
  },
  async preconditions(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    if (svc.status !== 'ACTIVE') return { ok: false, code: 'no_target', detail: `ECS service ${p.service} in ${p.cluster} is ${svc.status ?? 'unknown'}, not ACTIVE` };
    if (p.fromTaskDefinition !== undefined && !sameTaskDef(svc.taskDefinition, p.fromTaskDefinition)) {
      return { ok: false, code: 'target_changed', detail: `ECS service ${p.service} now runs ${shortTaskDef(svc.taskDefinition)}, not the suspect ${shortTaskDef(p.fromTaskDefinition)} approved for rollback` };
    }
    try {
      await target(ctx, svc.taskDefinition);
    } catch (err) {
      return { ok: false, code: 'no_target', detail: err instanceof Error ? err.message : String(err) };
    }
    return { ok: true };
  },
  async execute(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    const to = await target(ctx, svc.taskDefinition);
    const out = await awsCall('ecs.UpdateService', ctx.signal, () => ctx.aws.ecs.send(new UpdateServiceCommand({ cluster: p.cluster, service: p.service, taskDefinition: to }), { abortSignal: ctx.signal }));
    const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
    return { ok: true, summary: `rolled ECS service ${p.service} in ${p.cluster} back from ${shortTaskDef(svc.taskDefinition)} to ${shortTaskDef(to)}`, refs: { taskDefinition: to, ...(primary?.id !== undefined ? { deploymentId: primary.id } : {}) } };
  },
  async check(ctx) {
    const p = ctx.params;
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    if (p.fromTaskDefinition !== undefined && sameTaskDef(svc.taskDefinition, p.fromTaskDefinition)) return 'not_started';
    const to = p.toTaskDefinition;
    if (to === undefined && p.fromTaskDefinition === undefined) return 'unknown'; // "the previous revision" moved with the service
    if (to !== undefined && !sameTaskDef(svc.taskDefinition, to)) return 'unknown';
    const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
    return primary?.rolloutState === 'IN_PROGRESS' ? 'in_progress' : primary?.rolloutState === 'FAILED' ? 'unknown' : 'done';
  },
  async verify(ctx, result) {
    // An error the cloud check settled as done leaves no refs: the action's check is the verify then.
    if (result.refs?.['taskDefinition'] === undefined) return verifyByCheck((c) => this.check(c), ctx, `ECS service ${ctx.params.service} in ${ctx.params.cluster} on its previous task definition`);
    const p = ctx.params;
    const to = result.refs?.['taskDefinition'] ?? '';
    const svc = await describeService(ctx.aws, p.cluster, p.service, ctx.signal);
    return sameTaskDef(svc.taskDefinition, to)
      ? { ok: true, detail: `ECS service ${p.service} in ${p.cluster} is set to ${shortTaskDef(to)}` }
      : { ok: false, detail: `ECS service ${p.service} in ${p.cluster} is set to ${shortTaskDef(svc.taskDefinition)}, not ${shortTaskDef(to)}` };
  },
  sim: (world, p, at) => world.rollbackService(p.service, at),
  simPreview: (world, p, at) => {
    const undone = world.wouldUndo({ service: p.service }, at);
    return {
      summary: undone.length > 0 ? `roll ECS service ${p.service} back to the version before ${undone.join(', ')}` : `no deployment of ${p.service} to roll back`,
      changes: undone.map((id) => `deployment ${id}: undone`),
      resources: [`ecs:${p.cluster}/${p.service}`],
      source: 'cloud',
      blast: { trafficShare: 1 },
      cost: { kind: 'none', why: 'a rollback' },
    };
  },
});
