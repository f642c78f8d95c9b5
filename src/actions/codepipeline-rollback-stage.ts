import { RollbackStageCommand, type PipelineExecutionSummary } from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import { PermanentError } from '../core/errors.js';
import { defineAction, verifyByCheck, type ActionContext, type AwsActionClients } from './action.js';
import { listExecutions, stageState } from './codepipeline-read.js';
import { awsName } from './params.js';

const schema = z.strictObject({
  pipeline: awsName(100),
  stage: awsName(100),
  /** The last good execution; omitted = the newest non-rollback execution that succeeded in the stage before the suspect. */
  targetExecutionId: awsName(100).optional(),
  /** The suspect: the approval holds only while it is still the stage's latest execution. */
  fromExecutionId: awsName(100).optional(),
});
type P = z.output<typeof schema>;

/** The explicit target, or the newest non-rollback execution that succeeded in the stage before the suspect. */
async function rollbackTarget(ctx: ActionContext<P>): Promise<string> {
  const { pipeline, stage, targetExecutionId, fromExecutionId: from } = ctx.params;
  if (targetExecutionId !== undefined) return targetExecutionId;
  const succeeded = await listExecutions(ctx.aws, pipeline, ctx.signal, stage);
  const fromStart = succeeded.find((s) => s.pipelineExecutionId === from)?.startTime?.getTime();
  const candidates = succeeded.filter((s) => s.executionType !== 'ROLLBACK' && s.pipelineExecutionId !== from && (fromStart === undefined || (s.startTime?.getTime() ?? 0) < fromStart));
  // Without a suspect, the newest success is presumably the bad one: go one further back.
  const pick = from === undefined ? candidates[1] : candidates[0];
  if (pick?.pipelineExecutionId === undefined) throw new PermanentError(`codepipeline.rollbackStage: no earlier execution of ${pipeline} succeeded in stage ${stage}`);
  return pick.pipelineExecutionId;
}

/** A rollback execution to `target` that started after the suspect (if named) or after the step started. */
async function existingRollback(ctx: ActionContext<P>, aws: AwsActionClients, target: string): Promise<PipelineExecutionSummary | undefined> {
  const recent = await listExecutions(aws, ctx.params.pipeline, ctx.signal);
  const from = ctx.params.fromExecutionId;
  const fromStart = from === undefined ? undefined : recent.find((s) => s.pipelineExecutionId === from)?.startTime?.getTime();
  return recent.find(
    (s) => s.executionType === 'ROLLBACK' && s.rollbackMetadata?.rollbackTargetPipelineExecutionId === target && (fromStart === undefined || (s.startTime?.getTime() ?? 0) >= fromStart),
  );
}

/**
 * codepipeline.rollbackStage (V2 pipelines): RollbackStage to the last execution that succeeded in the stage
 * before the suspect. RollbackStage takes no client token, so `check` looks for a rollback execution to the
 * same target started after the suspect. `codepipeline.rollback` is the older name of the same action.
 */
export const codepipelineRollbackStage = defineAction<P>({
  name: 'codepipeline.rollbackStage',
  description: 'roll a V2 pipeline stage back to an earlier execution that succeeded in it',
  risk: 'medium',
  schema,
  iam: { read: ['codepipeline:GetPipeline', 'codepipeline:GetPipelineState', 'codepipeline:ListPipelineExecutions'], write: ['codepipeline:RollbackStage'], resource: 'arn:aws:codepipeline:*:*:*' },
  resources: (p) => [`codepipeline:${p.pipeline}/${p.stage}`],
  describe: (p) => `roll stage ${p.stage} of pipeline ${p.pipeline} back to ${p.targetExecutionId !== undefined ? `execution ${p.targetExecutionId}` : 'the last execution that succeeded before the suspect'}`,
  async preview(ctx) {
    const { pipeline, stage } = ctx.params;
    const [state, target] = [await stageState(ctx.aws, pipeline, stage, ctx.signal), await rollbackTarget(ctx)];
    const current = state.latestExecution?.pipelineExecutionId ?? 'none';
    return {
      summary: `roll stage ${stage} of ${pipeline} back from execution ${current} to ${target}`,
      changes: [`${pipeline}/${stage} execution: ${current} → ${target}`],
      resources: [`codepipeline:${pipeline}/${stage}`],
      source: 'cloud',
      cost: { kind: 'none', why: 'a rollback' },
    };
  },
  async preconditions(ctx) {
    const { pipeline, stage, fromExecutionId } = ctx.params;
    const type = await ctx.aws.pipelineType(pipeline, ctx.signal);
    if (type !== 'V2') return { ok: false, code: 'not_supported', detail: `pipeline ${pipeline} is ${type}; stage rollback needs a V2 pipeline` };
    const state = await stageState(ctx.aws, pipeline, stage, ctx.signal);
    const latest = state.latestExecution;
    if (fromExecutionId !== undefined && latest?.pipelineExecutionId !== fromExecutionId) {
      return { ok: false, code: 'not_latest', detail: `the suspect execution ${fromExecutionId} is no longer the latest in stage ${stage} of ${pipeline} (now ${latest?.pipelineExecutionId ?? 'none'}): the approved rollback no longer fits` };
    }
    if (latest?.status === 'InProgress') return { ok: false, code: 'target_changed', detail: `stage ${stage} of ${pipeline} is running execution ${latest.pipelineExecutionId ?? '?'}; a running stage cannot be rolled back` };
    let target: string;
    try {
      target = await rollbackTarget(ctx);
    } catch (err) {
      return { ok: false, code: 'no_target', detail: err instanceof Error ? err.message : String(err) };
    }
    const succeeded = await listExecutions(ctx.aws, pipeline, ctx.signal, stage);
    if (!succeeded.some((s) => s.pipelineExecutionId === target && s.executionType !== 'ROLLBACK')) {
      return { ok: false, code: 'no_target', detail: `execution ${target} did not succeed in stage ${stage} of ${pipeline} (or is itself a rollback): it cannot be a rollback target` };
    }
    return { ok: true };
  },
  async execute(ctx) {
    const { pipeline, stage } = ctx.params;
    // Also here, not only in preconditions: a V1 pipeline must never see a RollbackStage call.
    const type = await ctx.aws.pipelineType(pipeline, ctx.signal);
    if (type !== 'V2') throw new PermanentError(`codepipeline.rollbackStage: pipeline ${pipeline} is ${type}; stage rollback needs a V2 pipeline`);
    const target = await rollbackTarget(ctx);
    const existing = await existingRollback(ctx, ctx.aws, target);
    if (existing && existing.status !== 'Failed' && existing.status !== 'Stopped') {
      return { ok: true, summary: `stage ${stage} of ${pipeline} is already rolling back to ${target} (execution ${existing.pipelineExecutionId ?? '?'})`, refs: { pipelineExecutionId: existing.pipelineExecutionId ?? '', targetExecutionId: target } };
    }
    const out = await awsCall('codepipeline.RollbackStage', ctx.signal, () =>
      ctx.aws.codepipeline.send(new RollbackStageCommand({ pipelineName: pipeline, stageName: stage, targetPipelineExecutionId: target }), { abortSignal: ctx.signal }),
    );
    return { ok: true, summary: `rolled stage ${stage} of ${pipeline} back to execution ${target}`, refs: { pipelineExecutionId: out.pipelineExecutionId ?? '', targetExecutionId: target } };
  },
  async check(ctx) {
    const target = await rollbackTarget(ctx);
    const existing = await existingRollback(ctx, ctx.aws, target);
    if (!existing) return 'not_started';
    if (existing.status === 'Succeeded') return 'done';
    if (existing.status === 'InProgress' || existing.status === 'Stopping') return 'in_progress';
    return 'unknown'; // it ran and failed or was stopped: re-running is a person's call
  },
  verify(ctx) {
    return verifyByCheck((c) => this.check(c), ctx, `a rollback execution of stage ${ctx.params.stage} of ${ctx.params.pipeline}`);
  },
  sim: (world, p, at) => world.rollbackPipeline(p.pipeline, p.targetExecutionId, at),
  simPreview: (world, p, at) => {
    const undone = world.wouldUndo({ pipeline: p.pipeline, target: p.targetExecutionId }, at);
    return {
      summary: undone.length > 0 ? `roll stage ${p.stage} of pipeline ${p.pipeline} back, undoing ${undone.join(', ')}` : `nothing to roll back on ${p.pipeline}`,
      changes: undone.map((id) => `deployment ${id}: undone`),
      resources: [`codepipeline:${p.pipeline}/${p.stage}`],
      source: 'cloud',
      cost: { kind: 'none', why: 'a rollback' },
    };
  },
});
