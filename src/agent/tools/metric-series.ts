import { z } from 'zod';
import { iso, MINUTE, type EpochMs } from '../../core/time.js';
import { metricConsoleLink } from '../links.js';
import { noData, portFailure, servicesInScope, success, toolError, type AgentTool } from './tool.js';

const MAX_POINTS = 60;
const input = z.strictObject({
  metricId: z.string().min(1).max(255).describe('a metric id from the list in the briefing'),
  minutesBefore: z.int().min(1).max(180).default(30).describe('minutes before the onset'),
  minutesAfter: z.int().min(1).max(120).default(20).describe('minutes after the onset'),
});

/** Mean of the points in [from, to). */
const mean = (pts: readonly { t: number; v: number }[]): number | null => (pts.length === 0 ? null : pts.reduce((a, p) => a + p.v, 0) / pts.length);

/** A policy metric of the incident's service or its dependencies, around the onset, downsampled. */
export const metricSeriesTool: AgentTool<typeof input> = {
  name: 'get_metric_series',
  description: 'Datapoints of one watched metric (of the incident service or a service it depends on) around the incident onset, with means before and after the onset.',
  input,
  async run(i, ctx) {
    const scope = servicesInScope(ctx);
    const allowed = ctx.policy.metrics.filter((m) => scope.includes(m.service));
    const m = allowed.find((x) => x.id === i.metricId);
    if (!m) return toolError('not_allowed', `unknown metric "${i.metricId}"; allowed: ${allowed.map((x) => x.id).join(', ')}`);
    const onset = ctx.incident.onsetAt;
    const range = { start: (onset - i.minutesBefore * MINUTE) as EpochMs, end: (onset + i.minutesAfter * MINUTE) as EpochMs };
    let points: readonly { t: EpochMs; v: number }[];
    try {
      const [series] = await ctx.metrics.fetch([m], range, ctx.signal);
      points = series?.points ?? [];
    } catch (err) {
      return portFailure(`reading ${m.id}`, err);
    }
    if (points.length === 0) return noData(`${m.id} has no datapoints between ${iso(range.start)} and ${iso(range.end)}`);
    const stride = Math.ceil(points.length / MAX_POINTS);
    const sampled = points.filter((_p, k) => k % stride === 0);
    return success({
      metricId: m.id,
      service: m.service,
      metric: `${m.namespace}/${m.metricName} ${m.stat}`,
      onset: iso(onset),
      meanBefore: mean(points.filter((p) => p.t < onset)),
      meanAfter: mean(points.filter((p) => p.t >= onset)),
      max: Math.max(...points.map((p) => p.v)),
      points: sampled.map((p) => [Math.round((p.t - onset) / MINUTE), Number(p.v.toPrecision(4))]),
      pointsFormat: '[minutes from onset, value]',
      link: metricConsoleLink(ctx.policy.doc.account.region, m, range),
    }, stride > 1 ? `downsampled: every ${stride}th of ${points.length} points` : undefined);
  },
};
