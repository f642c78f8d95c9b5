import type { Deployment } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';
import type { EpochMs } from '../core/time.js';
import { correlate, previousGood, type CorrelationSeries } from '../incident/correlate.js';
import type { Correlation, Incident } from '../incident/incident.js';
import { logEvidence } from '../incident/log-evidence.js';
import { proposalSummary } from '../incident/summary.js';
import { announce } from './announce.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';
import { allCleared } from '../incident/grouping.js';
import { describeMute, groupMutes, muteRecords, type MuteSources } from '../mute/mutes.js';
import { muteSources } from '../mute/silences.js';

const MINUTE = 60_000;

/**
 * Incidents that waited group_wait: correlate, gather evidence, draft a runbook, ask for approval.
 * A muted incident (silence, maintenance window) waits instead, see `heldByMute`.
 */
export async function proposeAll(deps: PipelineDeps, ctx: CycleContext): Promise<void> {
  const detected = await deps.store.listIncidents({ states: ['detected'] });
  let sources: MuteSources | null = null;
  for (const inc of detected) {
    if (ctx.now - inc.openedAt < deps.policy.groupWaitMs) continue;
    sources ??= await muteSources(deps.store, deps.policy);
    if (await heldByMute(deps, ctx, inc, sources)) continue;
    await propose(deps, ctx, inc);
  }
}

/**
 * Alertmanager semantics for silences and maintenance windows: while every active signal of the
 * incident is muted, nothing is proposed and nobody is notified; the incident records which mute
 * muted what and why (`mutes`, audit `incident.muted`). When the mutes end with the problem still
 * there, the incident is proposed as usual (audit `incident.unmuted`); when the problem cleared while
 * muted, it is withdrawn quietly. Returns whether the incident is held back.
 */
async function heldByMute(deps: PipelineDeps, ctx: CycleContext, inc: Incident, sources: MuteSources): Promise<boolean> {
  const now = ctx.now as EpochMs;
  if (inc.mutes.length > 0 && allCleared(inc)) {
    const by = inc.mutes.map(describeMute).join('; ');
    await moveIncident(deps.store, inc, 'withdrawn', now, 'watcher', `the anomaly cleared while muted by ${by} — nothing proposed or notified`);
    return true;
  }
  const active = inc.signals.filter((s) => s.clearedAt === null);
  const found = groupMutes(sources, inc.service, active.length > 0 ? active : inc.signals, now);
  if (found.length > 0) {
    const known = new Set(inc.mutes.map((m) => `${m.id} ${m.metrics.join(',')} ${m.until}`));
    const fresh = muteRecords(found, now).filter((m) => !known.has(`${m.id} ${m.metrics.join(',')} ${m.until}`));
    if (fresh.length > 0) {
      await saveIncident(deps.store, inc, now, 'watcher', 'incident.muted', (n) => {
        n.mutes = [...n.mutes, ...fresh];
        n.reason = `muted by ${fresh.map(describeMute).join('; ')} — recorded, not notified`;
      }, { mutes: fresh.map((m) => ({ id: m.id, kind: m.kind, by: m.by, reason: m.reason, until: m.until, metrics: m.metrics })) });
    }
    return true;
  }
  if (inc.mutes.length > 0) {
    await deps.store.appendAudit({ at: now, incidentId: inc.id, kind: 'incident.unmuted', actor: 'watcher', data: { ended: inc.mutes.map((m) => m.id) } });
  }
  return false;
}

async function propose(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<void> {
  const { store, policy, logger } = deps;
  const now = ctx.now as EpochMs;
  const log = logger.child({ incidentId: inc.id, stage: 'propose' });
  const drafting = await moveIncident(store, inc, 'drafting', now, 'watcher', 'gathering evidence and drafting a runbook');

  // Logs first: new error templates (and the dependencies they name) enter the ranking.
  const evidence = await gatherLogs(deps, ctx, inc).catch((err: unknown) => {
    log.warn({ err: errorMessage(err) }, 'log evidence unavailable');
    return null;
  });
  const found = correlate({
    service: inc.service,
    onsetAt: inc.onsetAt,
    lookbackMs: policy.lookbackMs,
    deployments: await listDeployments(deps, ctx, inc),
    pipelineServices: pipelineServices(deps),
    dependsOn: new Map(Object.entries(deps.policy.doc.services).map(([svc, s]) => [svc, s.dependsOn])),
    series: await serviceSeries(deps, ctx, inc),
    otherOnsets: (await store.listIncidents({ limit: 200 }))
      .filter((o) => o.service !== inc.service && Math.abs(o.onsetAt - inc.onsetAt) < 30 * MINUTE)
      .map((o) => ({ service: o.service, onsetAt: o.onsetAt })),
    freezes: policy.doc.freezes,
    ...(evidence ? { logTemplates: evidence.templates } : {}),
  });
  const correlation = await withRollbackTarget(deps, ctx, found);
  const chart = await chartFor(deps, ctx, inc, correlation.suspect?.deployment);
  const withFacts: Incident = { ...drafting, correlation, evidence, chart };

  const plan = await deps.planner.draft(withFacts, ctx.signal);
  if (plan.kind === 'none') {
    const next = await moveIncident(store, drafting, 'needs_human', now, 'planner', [plan.reason, proposalSummary(correlation, evidence)].filter(Boolean).join(' — '), (n) => Object.assign(n, { correlation, evidence, chart }), { suspect: correlation.suspect?.deployment.id ?? null });
    await announce(deps, ctx, next, 'final', `needs a person: ${plan.reason}`);
    return;
  }
  const rb = plan.runbook;
  const suspect = correlation.suspect?.deployment;
  const excluded = suspect?.triggeredBy ? approversMatching(deps, suspect.triggeredBy) : [];
  const channels = ['web', 'cli', ...deps.notifiers.map((n) => n.channel)];
  const next = await moveIncident(
    store,
    drafting,
    'awaiting_approval',
    now,
    'planner',
    [`runbook "${rb.title}" awaits ${policy.quorum[rb.risk].approvals} approval(s)`, proposalSummary(correlation, evidence)].filter(Boolean).join(' — '),
    (n) => {
      Object.assign(n, { correlation, evidence, chart, runbook: rb });
      n.approval = {
        runbookHash: rb.hash,
        requestedAt: now,
        expiresAt: (now + policy.ttlMs) as EpochMs,
        requiredApprovals: policy.quorum[rb.risk].approvals,
        excludedApprovers: excluded,
        channels,
        remindersSent: 0,
        escalated: false,
      };
    },
    {
      suspect: suspect ? { id: suspect.id, pipeline: suspect.pipeline, score: correlation.suspect?.score, reasons: correlation.suspect?.reasons } : null,
      verdict: correlation.verdict,
      runbook: { templateId: rb.templateId, hash: rb.hash, risk: rb.risk, draftedBy: rb.draftedBy, steps: rb.steps.map((s) => ({ action: s.action, params: s.params })) },
    },
  );
  log.info({ runbookHash: rb.hash, suspect: suspect?.id ?? null }, 'approval requested');
  await announce(deps, ctx, next, 'proposal', `approval needed: ${rb.title}`);
}

/** Approvers whose name, email or Slack id is the deployment's trigger (they may not approve its fix). */
function approversMatching(deps: PipelineDeps, who: string): string[] {
  const w = who.toLowerCase();
  return Object.entries(deps.policy.doc.approvers)
    .filter(([name, a]) => [name, a.email, a.slackUserId, a.displayName].some((x) => x !== undefined && (w === x.toLowerCase() || w.endsWith(`/${x.toLowerCase()}`))))
    .map(([name]) => name);
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
  const start = (s.deployment.startedAt - ROLLBACK_TARGET_SEARCH_MS) as EpochMs;
  const older = await deps.deployments.list([s.deployment.pipeline], { start, end: s.deployment.startedAt }, ctx.signal).catch(() => []);
  const previous = previousGood(s.deployment, older);
  return previous ? { ...c, suspect: { ...s, previousExecutionId: previous.id } } : c;
}

async function listDeployments(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<Deployment[]> {
  const pipelines = [...new Set(Object.values(deps.policy.doc.services).flatMap((s) => s.pipelines))];
  if (pipelines.length === 0) return [];
  // Twice the lookback, so the last good execution before a suspect is known (the rollback target).
  return deps.deployments.list(pipelines, { start: (inc.onsetAt - 2 * deps.policy.lookbackMs) as EpochMs, end: ctx.now as EpochMs }, ctx.signal);
}

/** The service's metrics over the lookback (and an hour before it): drift evidence for correlation. */
async function serviceSeries(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<CorrelationSeries[]> {
  const metrics = deps.policy.metrics.filter((m) => m.service === inc.service);
  if (metrics.length === 0) return [];
  const range = { start: (inc.onsetAt - deps.policy.lookbackMs - 60 * MINUTE) as EpochMs, end: ctx.now as EpochMs };
  const series = await deps.metrics.fetch(metrics, range, ctx.signal);
  return series.flatMap((s) => {
    const m = metrics.find((x) => x.id === s.id);
    return m ? [{ metricName: m.metricName, direction: m.detector.direction, points: s.points }] : [];
  });
}

async function gatherLogs(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<Incident['evidence']> {
  const groups = deps.policy.doc.services[inc.service]?.logGroups ?? [];
  if (groups.length === 0) return null;
  const baseline = { start: (inc.onsetAt - 30 * MINUTE) as EpochMs, end: inc.onsetAt };
  const onset = { start: inc.onsetAt, end: Math.min(ctx.now, inc.onsetAt + 15 * MINUTE) as EpochMs };
  const records = await deps.logs.fetch({ groups, range: { start: baseline.start, end: onset.end }, limit: 10_000 }, ctx.signal);
  return logEvidence({ groups, records, baseline, onset });
}

async function chartFor(deps: PipelineDeps, ctx: CycleContext, inc: Incident, suspect?: Deployment): Promise<Incident['chart']> {
  const sig = [...inc.signals].sort((a, b) => b.peakScore - a.peakScore)[0];
  const metric = deps.policy.metrics.find((m) => m.id === sig?.metricId);
  if (!sig || !metric) return null;
  const start = Math.min(inc.onsetAt - 45 * MINUTE, (suspect?.deployEndedAt ?? Infinity) - 10 * MINUTE);
  const [series] = await deps.metrics.fetch([metric], { start: start as EpochMs, end: ctx.now as EpochMs }, ctx.signal);
  const marks = suspect?.deployEndedAt ? [{ id: suspect.id, at: suspect.deployEndedAt }] : [];
  return { metricId: metric.id, metricName: metric.metricName, points: (series?.points ?? []).slice(-240).map((p) => ({ t: p.t, v: p.v })), deployments: marks };
}

