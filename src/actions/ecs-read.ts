import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import { awsCall } from '../cloud/aws/errors.js';
import { PermanentError } from '../core/errors.js';
import type { AwsActionClients } from './action.js';

/** Reads the ECS actions share, and the Fargate price that turns a task count into $/hour. */

export async function describeService(aws: AwsActionClients, cluster: string, service: string, signal: AbortSignal): Promise<Service> {
  const out = await awsCall('ecs.DescribeServices', signal, () => aws.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }));
  const svc = out.services?.find((s) => s.serviceName === service || s.serviceArn === service);
  if (!svc) throw new PermanentError(`ECS service ${service} not found in cluster ${cluster}: ${(out.failures ?? []).map((f) => f.reason ?? '').join(', ')}`);
  return svc;
}

/** Fargate Linux/x86 on-demand, us-east-1 (aws-brief §8): $ per vCPU-hour and per GB-hour. */
export const FARGATE_VCPU_HOUR = 0.04048;
export const FARGATE_GB_HOUR = 0.004445;

/** $/hour of one task of this task definition, or null when its size is not on the definition (EC2 launch type). */
export async function taskHourlyCost(aws: AwsActionClients, taskDefinition: string | undefined, signal: AbortSignal): Promise<number | null> {
  if (taskDefinition === undefined) return null;
  const out = await awsCall('ecs.DescribeTaskDefinition', signal, () => aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal }));
  const cpu = Number(out.taskDefinition?.cpu);
  const mem = Number(out.taskDefinition?.memory);
  if (!Number.isFinite(cpu) || !Number.isFinite(mem) || cpu <= 0 || mem <= 0) return null;
  return (cpu / 1024) * FARGATE_VCPU_HOUR + (mem / 1024) * FARGATE_GB_HOUR;
}

/** "family:revision" of a task-definition ARN (or the value itself when it is already short). */
export const shortTaskDef = (arn: string | undefined): string => (arn ?? '?').replace(/^arn:[^:]+:ecs:[^:]*:\d*:task-definition\//, '');

/** Whether two task-definition references (ARN or family:revision) name the same revision. */
export const sameTaskDef = (a: string | undefined, b: string | undefined): boolean => a !== undefined && b !== undefined && shortTaskDef(a) === shortTaskDef(b);
