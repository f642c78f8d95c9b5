import { z } from 'zod';
import { MINUTE } from '../../core/time.js';
import { noData, success, type AgentTool } from './tool.js';

const input = z.strictObject({});

/** The deployments correlation ranked for this incident, with its plain-word reasons. */
export const correlationTool: AgentTool<typeof input> = {
  name: 'get_correlation',
  description: "The watcher's own ranking of deployments that may explain the incident: the suspect (if any), its reasons, the last good execution to go back to, and the other candidates.",
  input,
  async run(_i, ctx) {
    const c = ctx.incident.correlation;
    if (!c) return noData('correlation has not run for this incident');
    const onset = ctx.incident.onsetAt;
    const row = (r: { deployment: { id: string; pipeline: string; deployEndedAt?: number; revisionId?: string }; score: number; reasons: readonly string[] }): Record<string, unknown> => ({
      id: r.deployment.id,
      pipeline: r.deployment.pipeline,
      revisionId: r.deployment.revisionId,
      score: Number(r.score.toFixed(3)),
      minutesBeforeOnset: r.deployment.deployEndedAt !== undefined ? Math.round((onset - r.deployment.deployEndedAt) / MINUTE) : null,
      reasons: r.reasons,
    });
    return success({
      verdict: c.verdict,
      suspect: c.suspect ? { ...row(c.suspect), deployStage: c.suspect.deployment.deployStage, previousExecutionId: c.suspect.previousExecutionId ?? null } : null,
      candidates: c.candidates.slice(0, 10).map(row),
    });
  },
};
