import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetAutomationExecutionCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsActionTarget } from '../../src/cloud/aws/codepipeline-actions.js';
import type { ActionCall } from '../../src/cloud/ports.js';
import type { EpochMs } from '../../src/core/time.js';
import { actionViolation, type ActionAllowList } from '../../src/execute/action-policy.js';
import { runStep } from '../../src/execute/step-outcome.js';
import { startSsmAutomationStub, type SsmAutomationStub } from '../helpers/ssm-automation-stub.js';

/** ssm.startAutomation through the real @aws-sdk/client-ssm against a local server speaking AWS JSON 1.1 (issue 12, tests). */

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let stub: SsmAutomationStub;
beforeEach(async () => {
  stub = await startSsmAutomationStub();
  stub.documents.set('AWS-RestartEC2Instance', { version: '3', description: 'Restart EC2 instances' });
});
afterEach(() => stub.close());

/** A fresh target, as a (re)started daemon builds it: nothing remembered in the process. */
function target(): { t: AwsActionTarget; ssm: SSMClient } {
  const o = { region: 'us-east-1', endpoint: stub.url, credentials, maxAttempts: 1 };
  const ssm = new SSMClient(o);
  return { t: new AwsActionTarget({ codepipeline: new CodePipelineClient(o), ecs: new ECSClient(o), lambda: new LambdaClient(o), ssm, sns: new SNSClient(o) }, { pipelineType: () => Promise.resolve('V2') }), ssm };
}

const call: ActionCall = { action: 'ssm.startAutomation', params: { documentName: 'AWS-RestartEC2Instance', parameters: '{"InstanceId":["i-0abc"]}' } };
const KEY = 'inc-1/0123456789abcdef/step-1';
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('ssm.startAutomation on the wire', () => {
  it('happy path: preview, preconditions, StartAutomationExecution with a ClientToken and the marker tag; GetAutomationExecution sees it; check says in progress, then done', async () => {
    const { t, ssm } = target();
    const preview = await t.preview(call, signal());
    expect(preview.summary).toBe('start SSM Automation AWS-RestartEC2Instance v3: Restart EC2 instances');
    expect(preview.changes).toEqual(['InstanceId = i-0abc']);
    expect(await t.preconditions(call, KEY, signal())).toEqual({ ok: true });

    const res = await t.execute(call, KEY, signal());
    expect(res.ok).toBe(true);
    const id = res.refs?.['automationExecutionId'] ?? '';
    expect(stub.executions).toHaveLength(1);
    expect(stub.executions[0]?.id).toBe(id);
    expect(stub.executions[0]?.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(stub.executions[0]?.parameters).toEqual({ InstanceId: ['i-0abc'] });
    expect(stub.executions[0]?.tags[0]?.Key).toMatch(/^cloudops:/);
    const got = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
    expect(got.AutomationExecution?.AutomationExecutionStatus).toBe('InProgress');

    expect(await t.check(call, KEY, signal())).toBe('in_progress');
    stub.executions[0]!.status = 'Success';
    expect(await t.check(call, KEY, signal())).toBe('done');
    stub.executions[0]!.status = 'Failed';
    expect(await t.check(call, KEY, signal())).toBe('unknown');
  });

  it('a document the policy does not list is refused before any call; a document that does not exist fails its precondition', async () => {
    const allow = { 'ssm.startAutomation': { risk: 'high', description: 'restart', params: { documentName: { required: true, enum: ['AWS-RestartEC2Instance'] }, parameters: { required: false } } } } as unknown as ActionAllowList;
    const other: ActionCall = { action: 'ssm.startAutomation', params: { documentName: 'AWS-DeleteEverything' } };
    expect(actionViolation(allow, other)).toBe('parameter documentName="AWS-DeleteEverything" is not one of ["AWS-RestartEC2Instance"]');
    expect(actionViolation(allow, call)).toBeNull();
    expect(stub.calls).toEqual([]);

    const pre = await target().t.preconditions(other, KEY, signal());
    expect(pre).toMatchObject({ ok: false, code: 'no_target' });
    expect(stub.calls).toEqual(['DescribeDocument']);
    expect(stub.executions).toHaveLength(0);
  });

  it('an idempotent retry with the same key (same ClientToken) returns the same execution id and starts nothing new', async () => {
    const first = await target().t.execute(call, KEY, signal());
    const again = await target().t.execute(call, KEY, signal());
    expect(again.refs?.['automationExecutionId']).toBe(first.refs?.['automationExecutionId']);
    expect(stub.executions).toHaveLength(1);
    expect(stub.calls.filter((c) => c === 'StartAutomationExecution')).toHaveLength(2);
    // Another step (another key) is another execution.
    await target().t.execute(call, 'inc-1/0123456789abcdef/step-2', signal());
    expect(stub.executions).toHaveLength(2);
  });

  it('the answer is lost after the start landed (a crash or a reset): a restarted target\'s check finds it by its tag, and the step is recorded as it happened', async () => {
    stub.dropNextStartResponse = true;
    const outcome = await runStep(target().t, call, KEY, signal(), Date.now() as EpochMs);
    expect(stub.executions).toHaveLength(1);
    expect(outcome.kind).toBe('succeeded');
    expect(outcome.summary).toMatch(/but the cloud shows it in progress/);

    // A daemon restarted later asks again, with nothing in memory.
    expect(await target().t.check(call, KEY, signal())).toBe('in_progress');
    expect(await target().t.check(call, 'inc-1/0123456789abcdef/step-9', signal())).toBe('not_started');
  });
});
