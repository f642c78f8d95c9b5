import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import { awsCall } from '../cloud/aws/errors.js';
import { PermanentError } from '../core/errors.js';
import type { CostBasis } from '../cloud/ports.js';
import type { AwsActionClients } from './action.js';

/** Reads the ECS actions share, and the task size that the request's $/hour is priced from. */

export async function describeService(aws: AwsActionClients, cluster: string, service: string, signal: AbortSignal): Promise<Service> {
  const out = await awsCall('ecs.DescribeServices', signal, () => aws.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }));
  const svc = out.services?.find((s) => s.serviceName === service || s.serviceArn === service);
  if (!svc) throw new PermanentError(`ECS service ${service} not found in cluster ${cluster}: ${(out.failures ?? []).map((f) => f.reason ?? '').join(', ')}`);
  return svc;
}

/** The size of one task of this task definition, or null when it is not on the definition (EC2 launch type). */
export async function taskSize(aws: AwsActionClients, taskDefinition: string | undefined, signal: AbortSignal): Promise<{ vcpu: number; memoryGb: number } | null> {
  if (taskDefinition === undefined) return null;
  const out = await awsCall('ecs.DescribeTaskDefinition', signal, () => aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal }));
  const cpu = Number(out.taskDefinition?.cpu);
  const mem = Number(out.taskDefinition?.memory);
  if (!Number.isFinite(cpu) || !Number.isFinite(mem) || cpu <= 0 || mem <= 0) return null;
  return { vcpu: cpu / 1024, memoryGb: mem / 1024 };
}

/** The cost basis of a service going from `before` to `after` tasks of these sizes (unknown without a size). */
export function fleetCost(tasksBefore: number, sizeBefore: { vcpu: number; memoryGb: number } | null, tasksAfter: number, sizeAfter: { vcpu: number; memoryGb: number } | null): CostBasis {
  if (tasksBefore === tasksAfter && (sizeBefore === sizeAfter || (sizeBefore !== null && sizeAfter !== null && sizeBefore.vcpu === sizeAfter.vcpu && sizeBefore.memoryGb === sizeAfter.memoryGb))) {
    return { kind: 'none', why: 'same task count and size' };
  }
  if (sizeBefore === null || sizeAfter === null) return { kind: 'unknown', why: 'the task definition states no task size (EC2 launch type?)' };
  return { kind: 'fargate', before: { tasks: tasksBefore, ...sizeBefore }, after: { tasks: tasksAfter, ...sizeAfter } };
}

/** "family:revision" of a task-definition ARN (or the value itself when it is already short). */
export const shortTaskDef = (arn: string | undefined): string => (arn ?? '?').replace(/^arn:[^:]+:ecs:[^:]*:\d*:task-definition\//, '');

/** Whether two task-definition references (ARN or family:revision) name the same revision. */
export const sameTaskDef = (a: string | undefined, b: string | undefined): boolean => a !== undefined && b !== undefined && shortTaskDef(a) === shortTaskDef(b);
