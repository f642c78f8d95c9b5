import { DisableStageTransitionCommand, EnableStageTransitionCommand } from '@aws-sdk/client-codepipeline';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import type { ActionResult, Preview } from '../cloud/ports.js';
import { defineAction, verifyByCheck, type Action, type ActionContext } from './action.js';
import { stageState } from './codepipeline-read.js';
import { awsName, keyDigest } from './params.js';

/**
 * codepipeline.disableTransition / enableTransition: the freeze lever (artifacts stop entering a stage).
 * The API keeps no token; `check` reads GetPipelineState, whose inbound transition state is the outcome.
 * Only inbound transitions are readable there, so only inbound ones are offered.
 */

const schema = z.strictObject({
  pipeline: awsName(100),
  stage: awsName(100),
  reason: z.string().min(1).max(300).regex(/^[A-Za-z0-9!@ #$%^&*()+=:;,.?\\/'"_-]+$/, 'expected a reason of printable ASCII (CodePipeline pattern)').optional(),
});
type P = z.output<typeof schema>;

async function enabled(ctx: ActionContext<P>): Promise<boolean> {
  const s = await stageState(ctx.aws, ctx.params.pipeline, ctx.params.stage, ctx.signal);
  return s.inboundTransitionState?.enabled !== false;
}

export function transition(enable: boolean): Action {
  const verb = enable ? 'enable' : 'disable';
  /** The preview from the transition's state now (read from the cloud, or the sim's remembered state). */
  const preview = ({ pipeline, stage }: P, now: boolean): Preview => ({
    summary: now === enable ? `the inbound transition of ${pipeline}/${stage} is already ${enable ? 'enabled' : 'disabled'}: no change` : `${verb} the inbound transition of ${pipeline}/${stage}`,
    changes: [`${pipeline}/${stage} inbound transition: ${now ? 'enabled' : 'disabled'} → ${enable ? 'enabled' : 'disabled'}`],
    resources: [`codepipeline:${pipeline}/${stage}`],
    source: 'cloud',
    cost: { kind: 'none', why: 'a pipeline transition' },
  });
  return defineAction<P>({
    name: enable ? 'codepipeline.enableTransition' : 'codepipeline.disableTransition',
    description: enable ? 'let artifacts into a pipeline stage again (end a freeze)' : 'stop artifacts entering a pipeline stage (freeze it)',
    risk: enable ? 'medium' : 'low',
    schema,
    iam: { read: ['codepipeline:GetPipelineState'], write: [enable ? 'codepipeline:EnableStageTransition' : 'codepipeline:DisableStageTransition'], resource: 'arn:aws:codepipeline:*:*:*' },
    resources: (p) => [`codepipeline:${p.pipeline}/${p.stage}`],
    describe: (p) => `${verb} the inbound transition of stage ${p.stage} of pipeline ${p.pipeline}`,
    async preview(ctx) {
      return preview(ctx.params, await enabled(ctx));
    },
    async preconditions(ctx) {
      await stageState(ctx.aws, ctx.params.pipeline, ctx.params.stage, ctx.signal); // the stage still exists
      return { ok: true };
    },
    async execute(ctx): Promise<ActionResult> {
      const { pipeline, stage } = ctx.params;
      const base = { pipelineName: pipeline, stageName: stage, transitionType: 'Inbound' as const };
      if (enable) {
        await awsCall('codepipeline.EnableStageTransition', ctx.signal, () => ctx.aws.codepipeline.send(new EnableStageTransitionCommand(base), { abortSignal: ctx.signal }));
      } else {
        const reason = `cloudops-watcher ${keyDigest(ctx.key)}${ctx.params.reason !== undefined ? ` ${ctx.params.reason}` : ''}`.slice(0, 300);
        await awsCall('codepipeline.DisableStageTransition', ctx.signal, () => ctx.aws.codepipeline.send(new DisableStageTransitionCommand({ ...base, reason }), { abortSignal: ctx.signal }));
      }
      return { ok: true, summary: `${enable ? 'enabled' : 'disabled'} the inbound transition of stage ${stage} of ${pipeline}` };
    },
    async check(ctx) {
      return (await enabled(ctx)) === enable ? 'done' : 'not_started';
    },
    verify(ctx) {
      return verifyByCheck((c) => this.check(c), ctx, `the inbound transition of ${ctx.params.pipeline}/${ctx.params.stage} ${enable ? 'enabled' : 'disabled'}`);
    },
    simVerify: (world, p) => {
      const now = world.transitionEnabled(p.pipeline, p.stage);
      return { ok: now === enable, detail: `the inbound transition of ${p.pipeline}/${p.stage} is ${now ? 'enabled' : 'disabled'}` };
    },
    sim: (world, p, at) => {
      world.setTransition(p.pipeline, p.stage, enable, at);
      return { ok: true, summary: `${enable ? 'enabled' : 'disabled'} the inbound transition of ${p.pipeline}/${p.stage}` };
    },
    simPreview: (world, p) => preview(p, world.transitionEnabled(p.pipeline, p.stage)),
  });
}
