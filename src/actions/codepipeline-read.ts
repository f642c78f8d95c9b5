import { GetPipelineStateCommand, ListPipelineExecutionsCommand, type PipelineExecutionSummary, type StageState } from '@aws-sdk/client-codepipeline';
import { PermanentError } from '../core/errors.js';
import { awsCall } from '../cloud/aws/errors.js';
import type { AwsActionClients } from './action.js';

/** Reads the CodePipeline actions share: executions (paged, bounded) and one stage's state. */

export async function listExecutions(aws: AwsActionClients, pipeline: string, signal: AbortSignal, succeededInStage?: string): Promise<PipelineExecutionSummary[]> {
  const out: PipelineExecutionSummary[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('codepipeline.ListPipelineExecutions', signal, () =>
      aws.codepipeline.send(
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
    // Three pages reach far past any rollback target worth taking; the history is 12 months long.
  } while (token !== undefined && out.length < 300);
  return out;
}

export async function stageState(aws: AwsActionClients, pipeline: string, stage: string, signal: AbortSignal): Promise<StageState> {
  const out = await awsCall('codepipeline.GetPipelineState', signal, () => aws.codepipeline.send(new GetPipelineStateCommand({ name: pipeline }), { abortSignal: signal }));
  const s = out.stageStates?.find((x) => x.stageName === stage);
  if (!s) throw new PermanentError(`pipeline ${pipeline} has no stage ${stage} (stages: ${(out.stageStates ?? []).map((x) => x.stageName ?? '?').join(', ')})`);
  return s;
}
