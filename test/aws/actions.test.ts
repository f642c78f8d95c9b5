import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateAliasCommand, CreateFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCall } from '../../src/actions/catalogue.js';
import type { AwsPorts } from '../../src/cloud/aws/index.js';
import { SsmKillSwitch } from '../../src/cloud/aws/kill-switch.js';
import type { ActionCall } from '../../src/cloud/ports.js';
import { actionViolation } from '../../src/execute/action-policy.js';
import { priceCost } from '../../src/execute/step-preview.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';
import { startCodePipelineStub, type CodePipelineStub, type StubExecution } from './codepipeline-stub.js';
import { motoUrl, portsAt, resetMoto, signal } from './helpers.js';

/** The action catalogue's AWS side against moto (ECS, Lambda, SSM, SNS) and the CodePipeline stub. */

const MIN = 60_000;
const T = Date.now();
const MUTATING = /^(Update|Rollback|Stop|Disable|Enable|StartAutomation|Publish$|Put|Create|Delete|Register)/;

/** Every command the SDK clients send, by name (counted at the client, so nothing sent escapes it). */
function countCalls(ports: AwsPorts): string[] {
  const sent: string[] = [];
  for (const c of [ports.clients.codepipeline, ports.clients.ecs, ports.clients.lambda, ports.clients.ssm, ports.clients.sns]) {
    (c.middlewareStack as { add: (mw: unknown, o: unknown) => void }).add(
      (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
        sent.push(ctx.commandName?.replace(/Command$/, '') ?? '?');
        return next(args);
      },
      { step: 'initialize', name: `count-${Math.random()}` },
    );
  }
  return sent;
}

function execution(id: string, startMin: number, stage = 'Deploy', over: Partial<StubExecution> = {}): StubExecution {
  const start = T - startMin * MIN;
  return { pipelineExecutionId: id, status: 'Succeeded', startTime: start, lastUpdateTime: start + 5 * MIN, actions: [{ stageName: 'Source', actionName: 'Source', category: 'Source', startTime: start, lastUpdateTime: start + MIN, status: 'Succeeded' }, { stageName: stage, actionName: 'Deploy', category: 'Deploy', startTime: start + 2 * MIN, lastUpdateTime: start + 5 * MIN, status: 'Succeeded' }], ...over };
}

let stub: CodePipelineStub;
let ports: AwsPorts;
const run = async (call: ActionCall, key = `inc-1/abc/step-1`) => {
  const a = ports.actions;
  const preview = await a.preview!(call, signal());
  const pre = await a.preconditions!(call, key, signal());
  return { preview, pre };
};

beforeAll(async () => {
  await resetMoto();
  stub = await startCodePipelineStub({ forwardTo: motoUrl() });
  ports = portsAt(stub.url);
  const { ecs, lambda } = ports.clients;
  await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  for (const image of ['api:1', 'api:2']) {
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'api', cpu: '256', memory: '512', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', containerDefinitions: [{ name: 'api', image, memory: 512 }] }));
  }
  await ecs.send(new CreateServiceCommand({ cluster: 'prod', serviceName: 'api', taskDefinition: 'api:2', desiredCount: 2 }));
  await ecs.send(new CreateServiceCommand({ cluster: 'prod', serviceName: 'worker', taskDefinition: 'api:2', desiredCount: 1 }));

  // moto's Lambda wants an IAM role that exists; the IAM query API needs no SDK client of ours.
  const iam = await fetch(`${motoUrl()}/`, {
    method: 'POST',
    headers: { authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=CreateRole&RoleName=lambda-role&AssumeRolePolicyDocument=%7B%7D&Version=2010-05-08',
  });
  expect(iam.ok).toBe(true);
  const zip = (n: number) => Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18, n)]);
  await lambda.send(new CreateFunctionCommand({ FunctionName: 'orders', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::123456789012:role/lambda-role', Handler: 'index.handler', Code: { ZipFile: zip(0) } }));
  await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: zip(1) }));
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'orders', Name: 'live', FunctionVersion: v2.Version! }));
});
afterAll(async () => stub.close());

describe('ecs.updateService against moto', () => {
  it('happy path: previews 2 → 4 tasks with the Fargate cost, passes its preconditions, runs, and check says done', async () => {
    const call = { action: 'ecs.updateService', params: { cluster: 'prod', service: 'api', desiredCount: 4 } };
    const { preview, pre } = await run(call);
    expect(preview.changes).toContain('desiredCount: 2 → 4');
    // The task size is read from the task definition moto holds, and priced at the policy's prices:
    // 2 more tasks × (0.25 vCPU × $0.04048 + 0.5 GB × $0.004445) = $0.0247/hour
    expect(preview.blast).toEqual({ tasks: 2 });
    expect(priceCost(preview.cost, { fargateVcpuHour: 0.04048, fargateGbHour: 0.004445, lambdaProvisionedGbHour: 0.0000041667 * 3600 }).text).toContain('+$0.0247/hour');
    expect(pre).toEqual({ ok: true });
    expect(await ports.actions.check(call, 'k1', signal())).toBe('not_started');
    const res = await ports.actions.execute(call, 'k1', signal());
    expect(res.summary).toMatch(/from 2 to 4/);
    expect(await ports.actions.check(call, 'k1', signal())).toBe('done');
  });

  it('bound violation: a desiredCount above the policy maximum is refused, and one past the ECS limit by the catalogue', () => {
    const allow = { 'ecs.updateService': { risk: 'low' as const, params: { cluster: { required: true }, service: { required: true }, desiredCount: { required: false, min: 1, max: 6 } } } };
    expect(actionViolation(allow, { action: 'ecs.updateService', params: { cluster: 'prod', service: 'api', desiredCount: 7 } })).toMatch(/above the policy's maximum 6/);
    expect(actionViolation(allow, { action: 'ecs.updateService', params: { cluster: 'prod', service: 'api', desiredCount: 0 } })).toMatch(/below the policy's minimum 1/);
    const parsed = parseCall({ action: 'ecs.updateService', params: { service: 'api', desiredCount: 99_999 } });
    expect(parsed.ok).toBe(false);
  });

  it('precondition failure: the service no longer runs the task definition the step was approved for', async () => {
    const { pre } = await run({ action: 'ecs.updateService', params: { cluster: 'prod', service: 'worker', forceNewDeployment: true, fromTaskDefinition: 'api:1' } });
    expect(pre).toMatchObject({ ok: false, code: 'target_changed' });
    if (!pre.ok) expect(pre.detail).toMatch(/now runs api:2, not api:1/);
  });
});

describe('ecs.rollbackService against moto', () => {
  it('happy path: previous revision api:1, then check done', async () => {
    const call = { action: 'ecs.rollbackService', params: { cluster: 'prod', service: 'worker', fromTaskDefinition: 'api:2' } };
    const { preview, pre } = await run(call);
    expect(preview.changes[0]).toBe('taskDefinition: api:2 → api:1');
    expect(pre).toEqual({ ok: true });
    expect(await ports.actions.check(call, 'k2', signal())).toBe('not_started');
    await ports.actions.execute(call, 'k2', signal());
    // moto leaves the new primary deployment IN_PROGRESS: landed, still rolling out.
    expect(['in_progress', 'done']).toContain(await ports.actions.check(call, 'k2', signal()));
    // Run again now: the suspect is gone, so the approval no longer fits.
    expect((await ports.actions.preconditions!(call, 'k2', signal())).ok).toBe(false);
  });

  it('bound violation: a parameter the catalogue does not know is refused before any call', () => {
    expect(parseCall({ action: 'ecs.rollbackService', params: { service: 'worker', image: 'evil:latest' } }).ok).toBe(false);
  });
});

describe('lambda.updateAlias against moto', () => {
  it('happy path: alias live from version 2 back to 1, then check done', async () => {
    const call = { action: 'lambda.updateAlias', params: { functionName: 'orders', alias: 'live', fromVersion: '2' } };
    const { preview, pre } = await run(call);
    expect(preview.changes[0]).toBe('orders:live version: 2 → 1');
    expect(pre).toEqual({ ok: true });
    expect(await ports.actions.check(call, 'k3', signal())).toBe('not_started');
    await ports.actions.execute(call, 'k3', signal());
    expect(await ports.actions.check(call, 'k3', signal())).toBe('done');
  });

  it('precondition failure: the alias no longer points at the suspect version', async () => {
    const { pre } = await run({ action: 'lambda.updateAlias', params: { functionName: 'orders', alias: 'live', fromVersion: '2' } });
    expect(pre).toMatchObject({ ok: false, code: 'target_changed' });
  });

  it('bound violation: $LATEST is not a version to roll back to', () => {
    expect(parseCall({ action: 'lambda.updateAlias', params: { functionName: 'orders', alias: 'live', toVersion: '$LATEST' } }).ok).toBe(false);
  });
});

describe('codepipeline actions against the stub', () => {
  it('disableTransition then enableTransition: previews, runs, and check reads the transition state', async () => {
    stub.addPipeline({ name: 'shop', pipelineType: 'V2', stages: ['Source', 'Deploy'], executions: [execution('e2', 30), execution('e1', 90)] });
    const off = { action: 'codepipeline.disableTransition', params: { pipeline: 'shop', stage: 'Deploy', reason: 'runaway deploys' } };
    expect((await run(off)).preview.changes[0]).toBe('shop/Deploy inbound transition: enabled → disabled');
    expect(await ports.actions.check(off, 'k4', signal())).toBe('not_started');
    await ports.actions.execute(off, 'k4', signal());
    expect(await ports.actions.check(off, 'k4', signal())).toBe('done');
    expect(stub.pipelines.get('shop')?.disabled?.get('Deploy')).toMatch(/^cloudops-watcher [0-9a-f]{16} runaway deploys$/);
    const on = { action: 'codepipeline.enableTransition', params: { pipeline: 'shop', stage: 'Deploy' } };
    await ports.actions.execute(on, 'k5', signal());
    expect(await ports.actions.check(on, 'k5', signal())).toBe('done');
  });

  it('rollbackStage precondition failure: the suspect is no longer the latest execution in the stage', async () => {
    const pre = await ports.actions.preconditions!({ action: 'codepipeline.rollbackStage', params: { pipeline: 'shop', stage: 'Deploy', fromExecutionId: 'e1' } }, 'k', signal());
    expect(pre).toMatchObject({ ok: false, code: 'not_latest' });
    if (!pre.ok) expect(pre.detail).toMatch(/e1 is no longer the latest in stage Deploy of shop \(now e2\)/);
  });

  it('rollbackStage happy path: target = the execution before the suspect; check finds the rollback', async () => {
    const call = { action: 'codepipeline.rollbackStage', params: { pipeline: 'shop', stage: 'Deploy', fromExecutionId: 'e2' } };
    const { preview, pre } = await run(call);
    expect(preview.summary).toBe('roll stage Deploy of shop back from execution e2 to e1');
    expect(pre).toEqual({ ok: true });
    await ports.actions.execute(call, 'k6', signal());
    expect(await ports.actions.check(call, 'k6', signal())).toBe('in_progress');
  });
});

describe('ssm and sns against moto', () => {
  it('the SSM kill switch: "off" is off, "on" is on, a missing parameter is on (fails closed)', async () => {
    const { ssm } = ports.clients;
    await ssm.send(new PutParameterCommand({ Name: '/cloudops/kill-switch', Value: 'off', Type: 'String' }));
    expect(await new SsmKillSwitch(ssm, '/cloudops/kill-switch').isOn(signal())).toBe(false);
    await ssm.send(new PutParameterCommand({ Name: '/cloudops/kill-switch', Value: 'on', Type: 'String', Overwrite: true }));
    expect(await new SsmKillSwitch(ssm, '/cloudops/kill-switch').isOn(signal())).toBe(true);
    expect(await new SsmKillSwitch(ssm, '/cloudops/missing').isOn(signal())).toBe(true);
  });

  it('sns.notify publishes and returns the message id', async () => {
    const topic = (await ports.clients.sns.send(new CreateTopicCommand({ Name: 'cloudops-steps' }))).TopicArn!;
    const res = await ports.actions.execute({ action: 'sns.notify', params: { topicArn: topic, subject: 'rollback done', message: 'checkout rolled back' } }, 'k7', signal());
    expect(res.refs?.['messageId']).toMatch(/.+/);
  });
});

describe('shadow mode on the AWS target', () => {
  it('an approved runbook in shadow mode sends no mutating call to AWS: only reads for the preview', async () => {
    const shadowPorts = portsAt(stub.url);
    const sent = countCalls(shadowPorts);
    stub.addPipeline({ name: 'checkout-deploy', pipelineType: 'V2', stages: ['Source', 'Deploy'], executions: [execution('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003', 20), execution('7b1f0c2e-aaaa-4a39-9c61-0d5e2f1a0001', 120)] });
    const w = fastWorld(demoFiles((d) => (d.execution.mode = 'shadow')), { actions: () => shadowPorts.actions });
    const watcher = new Watcher(w.deps);
    const inc = await seedCheckoutIncident(w);
    await watcher.runCycle();
    const p = (await w.store.getIncident(inc.id))!;
    const before = stub.calls.length;
    await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.queueIdle();
    const after = (await w.store.getIncident(p.id))!;
    expect(after.steps.map((s) => s.status)).toEqual(['would_have_run']);
    expect(after.steps[0]!.summary).toMatch(/roll stage Deploy of checkout-deploy back from execution 5a6b7c8d/);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((c) => MUTATING.test(c))).toEqual([]);
    expect(stub.calls.slice(before).filter((c) => MUTATING.test(c))).toEqual([]);
  });
});
