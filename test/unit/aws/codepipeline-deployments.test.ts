import { CodePipelineClient, GetPipelineCommand, ListActionExecutionsCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodePipelineDeploymentSource, deployStageTiming, toDeploymentStatus } from '../../../src/cloud/aws/codepipeline-deployments.js';
import type { EpochMs } from '../../../src/core/time.js';

const cp = mockClient(CodePipelineClient);
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const MIN = 60_000;
const d = (min: number): Date => new Date(T0 + min * MIN);

describe('CodePipelineDeploymentSource (mocked client)', () => {
  beforeEach(() => cp.reset());

  it('pages executions and action executions and reports an in-progress deploy without an end', async () => {
    cp.on(GetPipelineCommand).resolves({ pipeline: { name: 'p', roleArn: 'r', stages: [], pipelineType: 'V2' } });
    cp.on(ListPipelineExecutionsCommand)
      .resolvesOnce({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e2', status: 'InProgress', startTime: d(-10), lastUpdateTime: d(-1), trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:iam::1:user/alice' } }], nextToken: 'n' })
      .resolvesOnce({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e1', status: 'Succeeded', startTime: d(-50), lastUpdateTime: d(-40) }] });
    cp.on(ListActionExecutionsCommand, { pipelineName: 'p', filter: { pipelineExecutionId: 'e2' } })
      .resolvesOnce({ actionExecutionDetails: [{ stageName: 'Build', startTime: d(-10), lastUpdateTime: d(-5), status: 'Succeeded', input: { actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' } } }], nextToken: 'a' })
      .resolvesOnce({ actionExecutionDetails: [{ stageName: 'Prod', startTime: d(-4), lastUpdateTime: d(-1), status: 'InProgress', input: { actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'ECS', version: '1' } } }] });
    cp.on(ListActionExecutionsCommand, { pipelineName: 'p', filter: { pipelineExecutionId: 'e1' } }).resolves({ actionExecutionDetails: [] });
    const src = new CodePipelineDeploymentSource(new CodePipelineClient({ region: 'us-east-1' }));
    const out = await src.list(['p'], { start: (T0 - 60 * MIN) as EpochMs, end: T0 as EpochMs }, AbortSignal.timeout(5000));
    expect(out.map((x) => x.id)).toEqual(['e1', 'e2']);
    expect(out[1]).toEqual({ id: 'e2', pipeline: 'p', pipelineType: 'V2', status: 'InProgress', startedAt: T0 - 10 * MIN, triggerType: 'StartPipelineExecution', triggeredBy: 'arn:aws:iam::1:user/alice', deployStage: 'Prod', deployStartedAt: T0 - 4 * MIN });
    expect(cp.commandCalls(ListPipelineExecutionsCommand)[1]!.args[0].input.nextToken).toBe('n');
    expect(cp.commandCalls(ListActionExecutionsCommand).length).toBe(3);
  });

  it('records a pipeline without pipelineType as V1 and caches the lookup', async () => {
    cp.on(GetPipelineCommand).resolves({ pipeline: { name: 'p', roleArn: 'r', stages: [] } });
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    const src = new CodePipelineDeploymentSource(new CodePipelineClient({ region: 'us-east-1' }));
    expect(await src.pipelineType('p', AbortSignal.timeout(5000))).toBe('V1');
    await src.list(['p'], { start: T0 as EpochMs, end: (T0 + MIN) as EpochMs }, AbortSignal.timeout(5000));
    expect(cp.commandCalls(GetPipelineCommand)).toHaveLength(1);
  });
});

describe('deployment helpers', () => {
  it('picks the last stage with a Deploy action and its span', () => {
    const deploy = (stageName: string, s: number, e: number) => ({ stageName, startTime: d(s), lastUpdateTime: d(e), status: 'Succeeded' as const, input: { actionTypeId: { category: 'Deploy' as const, owner: 'AWS' as const, provider: 'ECS', version: '1' } } });
    expect(deployStageTiming([deploy('Staging', 0, 3), deploy('Prod', 5, 8), deploy('Prod', 6, 9)])).toEqual({ stage: 'Prod', startedAt: T0 + 5 * MIN, endedAt: T0 + 9 * MIN });
    expect(deployStageTiming([deploy('Staging', 0, 3), deploy('Prod', 5, 8)], 'Staging')).toEqual({ stage: 'Staging', startedAt: T0, endedAt: T0 + 3 * MIN });
    expect(deployStageTiming([])).toBeUndefined();
  });

  it('maps an unknown future status to InProgress (not done)', () => {
    expect(toDeploymentStatus('Cancelled')).toBe('Cancelled');
    expect(toDeploymentStatus('Paused')).toBe('InProgress');
  });
});
