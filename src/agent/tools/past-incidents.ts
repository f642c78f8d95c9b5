import { z } from 'zod';
import { iso } from '../../core/time.js';
import { noData, portFailure, success, type AgentTool } from './tool.js';

const input = z.strictObject({ limit: z.int().min(1).max(20).default(5) });
const FINISHED = ['resolved', 'not_recovered', 'needs_human', 'rejected', 'expired', 'failed', 'withdrawn', 'superseded'] as const;

/** Earlier incidents of the same service and how they ended: what ran, and whether it helped. */
export const pastIncidentsTool: AgentTool<typeof input> = {
  name: 'get_past_incidents',
  description: 'Earlier incidents of the same service, newest first: which signals, which runbook, which steps ran and how the incident ended.',
  input,
  async run(i, ctx) {
    let past;
    try {
      past = await ctx.store.listIncidents({ service: ctx.incident.service, states: [...FINISHED], limit: 50 });
    } catch (err) {
      return portFailure('reading past incidents', err);
    }
    const rows = past.filter((p) => p.id !== ctx.incident.id).sort((a, b) => b.openedAt - a.openedAt).slice(0, i.limit);
    if (rows.length === 0) return noData(`no earlier finished incidents of ${ctx.incident.service}`);
    return success({
      incidents: rows.map((p) => ({
        id: p.id,
        openedAt: iso(p.openedAt),
        outcome: p.state,
        reason: p.reason.slice(0, 300),
        signals: p.signals.map((s) => `${s.metricName} ${s.direction}`),
        suspect: p.correlation?.suspect?.deployment.id ?? null,
        runbook: p.runbook ? { title: p.runbook.title, draftedBy: p.runbook.draftedBy, actions: p.runbook.steps.map((s) => s.action) } : null,
        steps: p.steps.map((s) => ({ action: s.action, status: s.status })),
      })),
    });
  },
};
