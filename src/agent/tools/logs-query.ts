import { z } from 'zod';
import { iso, MINUTE, type EpochMs } from '../../core/time.js';
import { insightsQuery, logsInsightsLink } from '../links.js';
import { noData, portFailure, servicesInScope, success, toolError, type AgentTool, type ToolContext } from './tool.js';

const MAX_WINDOW_MIN = 120;
const input = z.strictObject({
  logGroups: z.array(z.string().min(1).max(512)).min(1).max(10).optional().describe('default: every log group of the incident service'),
  filter: z.string().min(1).max(200).optional().describe('case-insensitive substring, or /regex/'),
  minutesBefore: z.int().min(0).max(MAX_WINDOW_MIN).default(15),
  minutesAfter: z.int().min(0).max(MAX_WINDOW_MIN).default(15),
  limit: z.int().min(1).max(50).default(20),
});

/** Log groups the policy names for the incident's service and its dependencies. */
export function allowedLogGroups(ctx: ToolContext): string[] {
  return servicesInScope(ctx).flatMap((s) => ctx.policy.doc.services[s]?.logGroups ?? []);
}

/** A Logs Insights query restricted to the policy's log groups and a bounded range around the onset. */
export const logsQueryTool: AgentTool<typeof input> = {
  name: 'query_logs',
  description: 'Log lines around the incident onset from the log groups of the incident service or its dependencies, newest first, optionally filtered. The range is bounded to two hours around the onset.',
  input,
  async run(i, ctx) {
    const allowed = allowedLogGroups(ctx);
    if (allowed.length === 0) return noData(`the policy names no log groups for ${servicesInScope(ctx).join(', ')}`);
    const own = ctx.policy.doc.services[ctx.incident.service]?.logGroups ?? [];
    const groups = i.logGroups ?? (own.length > 0 ? own : allowed);
    const outside = groups.filter((g) => !allowed.includes(g));
    if (outside.length > 0) return toolError('not_allowed', `log groups not in the policy: ${outside.join(', ')}; allowed: ${allowed.join(', ')}`);
    if (i.filter?.startsWith('/') && i.filter.endsWith('/')) {
      try {
        new RegExp(i.filter.slice(1, -1));
      } catch (err) {
        return toolError('invalid_input', `filter is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    if (i.minutesBefore + i.minutesAfter > MAX_WINDOW_MIN) return toolError('invalid_input', `the range may span at most ${MAX_WINDOW_MIN} minutes`);
    const onset = ctx.incident.onsetAt;
    const range = { start: (onset - i.minutesBefore * MINUTE) as EpochMs, end: (onset + i.minutesAfter * MINUTE) as EpochMs };
    let records;
    try {
      records = await ctx.logs.fetch({ groups, range, limit: i.limit, ...(i.filter ? { filter: i.filter } : {}) }, ctx.signal);
    } catch (err) {
      return portFailure('the log query', err);
    }
    const query = insightsQuery(i.filter, i.limit);
    const link = logsInsightsLink(ctx.policy.doc.account.region, groups, query, range);
    if (records.length === 0) return noData(`no log lines in ${groups.join(', ')} between ${iso(range.start)} and ${iso(range.end)}${i.filter ? ` matching "${i.filter}"` : ''} (${link})`);
    const newest = [...records].sort((a, b) => b.t - a.t).slice(0, i.limit);
    return success({
      groups,
      range: { start: iso(range.start), end: iso(range.end) },
      query,
      link,
      lines: newest.map((r) => ({ minutesFromOnset: Math.round(((r.t - onset) / MINUTE) * 10) / 10, group: r.group, message: r.message.slice(0, 500) })),
    });
  },
};
