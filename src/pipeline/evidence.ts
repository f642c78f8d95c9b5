import type { Deployment } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';
import { addMs, earliest, MINUTE } from '../core/time.js';
import { correlate, previousGood, type CorrelationSeries } from '../incident/correlate.js';
import type { Correlation, Incident } from '../incident/incident.js';
import { logEvidence } from '../incident/log-evidence.js';
import { CHART_LEAD_MS, readChartSeries } from './chart-refresh.js';
import type { CycleContext, PipelineDeps } from './context.js';

/** What drafting gathers before the planner is asked: the suspect, the log evidence and the chart. */
export interface IncidentFacts {
  readonly correlation: Correlation;
  readonly evidence: Incident['evidence'];
  readonly chart: Incident['chart'];
}

/**
 * Gathers the incident's log evidence and correlates it with deployments (new error templates, and the
 * dependencies they name, enter the ranking). Deployments and metrics are
 * needed (a failure throws and the attempt is retried); log evidence is optional (logged, left out).
 */
export async function gatherFacts(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<IncidentFacts> {
  // Logs first: new error templates (and the dependencies they name) enter the ranking.
  const evidence = await gatherLogs(deps, ctx, inc).catch((err: unknown) => {
    if (ctx.signal.aborted) throw err;
    deps.logger.warn({ incidentId: inc.id, stage: 'draft', err: errorMessage(err) }, 'log evidence unavailable');
    return null;
  });
  const found = correlate({
    service: inc.service,
    onsetAt: inc.onsetAt,
    lookbackMs: deps.policy.lookbackMs,
    deployments: await listDeployments(deps, ctx, inc),
    pipelineServices: pipelineServices(deps),
    dependsOn: new Map(Object.entries(deps.policy.doc.services).map(([svc, s]) => [svc, s.dependsOn])),
    series: await serviceSeries(deps, ctx, inc),
    // Another incident within 30 min of this onset opened at or after its own onset, so no earlier one can be.
    otherOnsets: (await deps.store.listIncidents({ openedAfter: addMs(inc.onsetAt, -30 * MINUTE), limit: 200 }, { signal: ctx.signal }))
      .filter((o) => o.service !== inc.service && Math.abs(o.onsetAt - inc.onsetAt) < 30 * MINUTE)
      .map((o) => ({ service: o.service, onsetAt: o.onsetAt })),
    freezes: deps.policy.doc.freezes,
    ...(evidence ? { logTemplates: evidence.templates } : {}),
  });
  const correlation = await withRollbackTarget(deps, ctx, found);
  const chart = await chartFor(deps, ctx, inc, correlation.suspect?.deployment);
  return { correlation, evidence, chart };
}

function pipelineServices(deps: PipelineDeps): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [svc, s] of Object.entries(deps.policy.doc.services)) for (const p of s.pipelines) m.set(p, [...(m.get(p) ?? []), svc]);
  return m;
}

/** How far back the last good execution of a suspect's pipeline is looked for, when the lookback did not show it. */
const ROLLBACK_TARGET_SEARCH_MS = 30 * 24 * 60 * MINUTE;

/**
 * The rollback target (the suspect pipeline's last good execution before it) is often older than the
 * correlation lookback: a service deployed weekly. One more listing of that pipeline alone, further back.
 */
async function withRollbackTarget(deps: PipelineDeps, ctx: CycleContext, c: Correlation): Promise<Correlation> {
  const s = c.suspect;
  if (!s || s.previousExecutionId) return c;
  const start = addMs(s.deployment.startedAt, -ROLLBACK_TARGET_SEARCH_MS);
  const older = await deps.deployments.list([s.deployment.pipeline], { start, end: s.deployment.startedAt }, ctx.signal).catch((err: unknown) => {
    if (ctx.signal.aborted) throw err;
    return [];
  });
  const previous = previousGood(s.deployment, older);
  return previous ? { ...c, suspect: { ...s, previousExecutionId: previous.id } } : c;
}

async function listDeployments(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<Deployment[]> {
  const pipelines = [...new Set(Object.values(deps.policy.doc.services).flatMap((s) => s.pipelines))];
  if (pipelines.length === 0) return [];
  // Twice the lookback, so the last good execution before a suspect is known (the rollback target).
  return deps.deployments.list(pipelines, { start: addMs(inc.onsetAt, -2 * deps.policy.lookbackMs), end: ctx.now }, ctx.signal);
}

/** The service's metrics over the lookback (and an hour before it): drift evidence for correlation. */
async function serviceSeries(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<CorrelationSeries[]> {
  const metrics = deps.policy.metrics.filter((m) => m.service === inc.service);
  if (metrics.length === 0) return [];
  const range = { start: addMs(inc.onsetAt, -deps.policy.lookbackMs - 60 * MINUTE), end: ctx.now };
  const series = await deps.metrics.fetch(metrics, range, ctx.signal);
  return series.flatMap((s) => {
    const m = metrics.find((x) => x.id === s.id);
    return m ? [{ metricName: m.metricName, direction: m.detector.direction, points: s.points }] : [];
  });
}

async function gatherLogs(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<Incident['evidence']> {
  const groups = deps.policy.doc.services[inc.service]?.logGroups ?? [];
  if (groups.length === 0) return null;
  const baseline = { start: addMs(inc.onsetAt, -30 * MINUTE), end: inc.onsetAt };
  const onset = { start: inc.onsetAt, end: earliest(ctx.now, addMs(inc.onsetAt, 15 * MINUTE)) };
  const records = await deps.logs.fetch({ groups, range: { start: baseline.start, end: onset.end }, limit: 10_000 }, ctx.signal);
  return logEvidence({ groups, records, baseline, onset });
}

/**
 * The chart approvers see: every signal metric (small multiples) from before the suspect deploy (or
 * CHART_LEAD_MS before the onset) to now; the verify stage appends the recovery later (chart-refresh.ts).
 */
async function chartFor(deps: PipelineDeps, ctx: CycleContext, inc: Incident, suspect?: Deployment): Promise<Incident['chart']> {
  const lead = addMs(inc.onsetAt, -CHART_LEAD_MS);
  const start = suspect?.deployEndedAt ? earliest(lead, addMs(suspect.deployEndedAt, -10 * MINUTE)) : lead;
  const series = await readChartSeries(deps, ctx, inc, start);
  const main = series[0];
  if (!main) return null;
  const marks = suspect?.deployEndedAt ? [{ id: suspect.id, at: suspect.deployEndedAt }] : [];
  return { metricId: main.metricId, metricName: main.metricName, points: main.points, deployments: marks, series, refreshedAt: ctx.now };
}
