import { GetPipelineExecutionCommand, StopPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import { defineAction, verifyByCheck, type ActionContext } from './action.js';
import { awsName, errorName, flag, keyDigest } from './params.js';

const schema = z.strictObject({
  pipeline: awsName(100),
  executionId: awsName(100),
  /** true = stop and abandon in-progress actions (can leave tasks out of sequence); default: stop and wait. */
  abandon: flag.optional(),
  reason: z.string().max(150).optional(),
});
type P = z.output<typeof schema>;

async function status(ctx: ActionContext<P>): Promise<string | undefined> {
  const out = await awsCall('codepipeline.GetPipelineExecution', ctx.signal, () =>
    ctx.aws.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName: ctx.params.pipeline, pipelineExecutionId: ctx.params.executionId }), { abortSignal: ctx.signal }),
  );
  return out.pipelineExecution?.status;
}

/** codepipeline.stopExecution: StopPipelineExecution; the reason carries the key's digest so a person can match it. */
export const codepipelineStopExecution = defineAction<P>({
  name: 'codepipeline.stopExecution',
  description: 'stop a running pipeline execution (wait for running actions, or abandon them)',
  risk: 'medium',
  schema,
  iam: { read: ['codepipeline:GetPipelineExecution'], write: ['codepipeline:StopPipelineExecution'], resource: 'arn:aws:codepipeline:*:*:*' },
  resources: (p) => [`codepipeline:${p.pipeline}`],
  describe: (p) => `${p.abandon === true ? 'stop and abandon' : 'stop (letting running actions finish)'} execution ${p.executionId} of pipeline ${p.pipeline}`,
  async preview(ctx) {
    const s = await status(ctx);
    const { pipeline, executionId, abandon } = ctx.params;
    const after = s === 'InProgress' ? (abandon === true ? 'Stopped' : 'Stopping') : (s ?? 'unknown');
    return { summary: s === 'InProgress' ? `stop execution ${executionId} of ${pipeline} (now ${s})` : `execution ${executionId} of ${pipeline} is ${s ?? 'unknown'}: nothing to stop`, changes: [`${pipeline} execution ${executionId}: ${s ?? 'unknown'} → ${after}`], resources: [`codepipeline:${pipeline}`], source: 'cloud', cost: { kind: 'none', why: 'stops a deployment' } };
  },
  async preconditions(ctx) {
    const s = await status(ctx);
    // Stopping an execution that already ended is harmless; one that is stopping already is what was asked.
    if (s === undefined) return { ok: false, code: 'no_target', detail: `execution ${ctx.params.executionId} of ${ctx.params.pipeline} was not found` };
    return { ok: true };
  },
  async execute(ctx) {
    const { pipeline, executionId: id } = ctx.params;
    const abandon = ctx.params.abandon === true;
    const reason = `cloudops-watcher ${keyDigest(ctx.key)}${ctx.params.reason !== undefined ? `: ${ctx.params.reason}` : ''}`.slice(0, 200);
    try {
      await awsCall('codepipeline.StopPipelineExecution', ctx.signal, () =>
        ctx.aws.codepipeline.send(new StopPipelineExecutionCommand({ pipelineName: pipeline, pipelineExecutionId: id, abandon, reason }), { abortSignal: ctx.signal }),
      );
    } catch (err) {
      const name = errorName(err);
      if (name === 'DuplicatedStopRequestException') return { ok: true, summary: `execution ${id} of ${pipeline} was already stopping`, refs: { pipelineExecutionId: id } };
      if (name === 'PipelineExecutionNotStoppableException') return { ok: true, summary: `execution ${id} of ${pipeline} had already finished; nothing to stop`, refs: { pipelineExecutionId: id } };
      throw err;
    }
    return { ok: true, summary: `${abandon ? 'stopped and abandoned' : 'stopping (letting running actions finish)'} execution ${id} of ${pipeline}`, refs: { pipelineExecutionId: id } };
  },
  async check(ctx) {
    const s = await status(ctx);
    if (s === 'Stopped') return 'done';
    if (s === 'Stopping') return 'in_progress';
    if (s === 'InProgress') return 'not_started';
    // Finished by itself (Succeeded, Failed, Superseded): whether this step stopped it cannot be told.
    return 'unknown';
  },
  verify(ctx) {
    return verifyByCheck((c) => this.check(c), ctx, `execution ${ctx.params.executionId} of ${ctx.params.pipeline} stopped`);
  },
  simVerify: (world, p) =>
    world.executionStoppedAt(p.pipeline, p.executionId) !== undefined ? { ok: true, detail: `execution ${p.executionId} of ${p.pipeline} is stopped` } : { ok: false, detail: `execution ${p.executionId} of ${p.pipeline} is not stopped` },
  sim: (world, p, at) => {
    if (world.executionStoppedAt(p.pipeline, p.executionId) !== undefined) return { ok: true, summary: `execution ${p.executionId} of ${p.pipeline} was already stopped` };
    world.stopExecution(p.pipeline, p.executionId, at);
    return { ok: true, summary: `stopped execution ${p.executionId} of ${p.pipeline}` };
  },
  simPreview: (world, p) => {
    const stopped = world.executionStoppedAt(p.pipeline, p.executionId) !== undefined;
    const s = stopped ? 'Stopped' : 'InProgress';
    const after = stopped ? 'Stopped' : p.abandon === true ? 'Stopped' : 'Stopping';
    return {
      summary: stopped ? `execution ${p.executionId} of ${p.pipeline} is Stopped: nothing to stop` : `stop execution ${p.executionId} of ${p.pipeline} (now ${s})`,
      changes: [`${p.pipeline} execution ${p.executionId}: ${s} → ${after}`],
      resources: [`codepipeline:${p.pipeline}`],
      source: 'cloud',
      cost: { kind: 'none', why: 'stops a deployment' },
    };
  },
});
