import { z } from 'zod';
import type { Deployment } from '../../cloud/ports.js';
import { iso, MINUTE, type EpochMs } from '../../core/time.js';
import { pipelineExecutionLink } from '../links.js';
import { noData, portFailure, servicesInScope, success, type AgentTool } from './tool.js';

const input = z.strictObject({
  minutesBefore: z.int().min(1).max(24 * 60).optional().describe('default: the policy lookback'),
  minutesAfter: z.int().min(0).max(60).default(10),
});

/** Deployments of the incident's service and its dependencies, with revisions and change summaries. */
export const deploymentsTool: AgentTool<typeof input> = {
  name: 'list_deployments',
  description: 'CodePipeline executions of the incident service and the services it depends on around the onset, with source revision, change summary (untrusted text), who triggered it and its change size.',
  input,
  async run(i, ctx) {
    const services = servicesInScope(ctx);
    const pipelines = services.flatMap((s) => ctx.policy.doc.services[s]?.pipelines ?? []);
    if (pipelines.length === 0) return noData(`the policy names no pipelines for ${services.join(', ')}`);
    const onset = ctx.incident.onsetAt;
    const before = i.minutesBefore !== undefined ? i.minutesBefore * MINUTE : ctx.policy.lookbackMs;
    const range = { start: (onset - before) as EpochMs, end: (onset + i.minutesAfter * MINUTE) as EpochMs };
    let list: Deployment[];
    try {
      list = await ctx.deployments.list(pipelines, range, ctx.signal);
    } catch (err) {
      return portFailure('listing deployments', err);
    }
    if (list.length === 0) return noData(`no executions of ${pipelines.join(', ')} between ${iso(range.start)} and ${iso(range.end)}`);
    const region = ctx.policy.doc.account.region;
    const shown = list.sort((a, b) => a.startedAt - b.startedAt).slice(-20);
    return success({
      deployments: shown
        .map((d) => ({
          id: d.id,
          pipeline: d.pipeline,
          status: d.status,
          deployStage: d.deployStage,
          deployEndedMinutesBeforeOnset: d.deployEndedAt !== undefined ? Math.round((onset - d.deployEndedAt) / MINUTE) : null,
          startedAt: iso(d.startedAt),
          revisionId: d.revisionId,
          revisionSummary: d.revisionSummary?.slice(0, 500),
          triggeredBy: d.triggeredBy,
          changeSize: d.changeSize,
          rollbackOf: d.rollbackOf,
          link: pipelineExecutionLink(region, d.pipeline, d.id),
        })),
    }, undefined, shown.map((d) => d.id));
  },
};
