import { addMs } from '../core/time.js';
import { errorMessage } from '../core/errors.js';
import type { Incident } from '../incident/incident.js';
import { describeTrigger, mayRedraft, type RedraftTrigger } from '../incident/lifecycle.js';
import { newEvidence } from '../incident/new-evidence.js';
import { stepViews, type PastRequest } from '../incident/revisions.js';
import { announce } from './announce.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { moveIncident } from './transitions.js';

/** The request an incident is awaiting now, as a past request that ended with `outcome`. */
export function endedRequest(inc: Incident, outcome: PastRequest['outcome'], at: number, why: string): PastRequest | null {
  if (!inc.approval || !inc.runbook) return null;
  return {
    version: (inc.requests?.length ?? 0) + 1,
    runbookHash: inc.approval.runbookHash,
    title: inc.runbook.title,
    steps: stepViews(inc.runbook),
    requestedAt: inc.approval.requestedAt,
    endedAt: at as PastRequest['endedAt'],
    outcome,
    why,
  };
}

/**
 * Supersedes the incident's request and sends it back to drafting for a new version, when the policy
 * allows another re-draft (`pipeline.maxRedrafts`). Decisions on the old version stop counting: the new
 * request names a new runbook hash. The proposal's channels are told at once; the diff follows with the
 * new version. Returns the moved incident, or null when no re-draft is allowed (the caller goes on).
 */
export async function tryRedraft(deps: PipelineDeps, ctx: CycleContext, inc: Incident, trigger: RedraftTrigger): Promise<Incident | null> {
  const done = inc.requests?.filter((r) => r.outcome === 'superseded').length ?? 0;
  const verdict = mayRedraft(inc.state, trigger, done, deps.settings.maxRedrafts);
  if (!verdict.redraft) return null;
  const why = describeTrigger(trigger);
  const previous = endedRequest(inc, 'superseded', ctx.now, why);
  if (!previous) return null;
  const next = await moveIncident(deps.store, inc, 'drafting', ctx.now, trigger.kind === 'rejected' ? trigger.by : 'watcher', `re-drafting: version ${previous.version} superseded (${why})`, (n) => {
    n.requests = [...(n.requests ?? []), previous];
    n.redraft = { count: done + 1, trigger, previous };
    n.drafting = { attempts: 0, startedAt: ctx.now, lastError: null };
  }, { redraft: { count: done + 1, of: deps.settings.maxRedrafts, trigger, superseded: previous.runbookHash } });
  deps.logger.info({ incidentId: inc.id, stage: 'decide', trigger: trigger.kind, superseded: previous.runbookHash }, 'request superseded; drafting a new version');
  await announce(deps, ctx, next, 'reminder', `version ${previous.version} superseded, re-drafting: ${why}`);
  return next;
}

/**
 * New evidence since the incident's request opened (a new deployment of the service or a related one,
 * a related service failing), or null. Looked for only while a re-draft is still allowed, so a policy
 * without re-drafts costs no extra API calls. A source that fails is logged and looked at next cycle.
 */
export async function findNewEvidence(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<RedraftTrigger | null> {
  const req = inc.approval;
  const done = inc.requests?.filter((r) => r.outcome === 'superseded').length ?? 0;
  if (!req || done >= deps.settings.maxRedrafts) return null;
  const services = deps.policy.doc.services;
  const pipelineServices = new Map<string, string[]>();
  for (const [svc, s] of Object.entries(services)) for (const p of s.pipelines) pipelineServices.set(p, [...(pipelineServices.get(p) ?? []), svc]);
  const dependsOn = new Map(Object.entries(services).map(([svc, s]) => [svc, s.dependsOn]));
  try {
    const deployments = pipelineServices.size > 0 ? await deps.deployments.list([...pipelineServices.keys()], { start: req.requestedAt, end: ctx.now }, ctx.signal) : [];
    const incidents = (await deps.store.listIncidents({ openedAfter: addMs(req.requestedAt, 1), limit: 200 }, { signal: ctx.signal })).filter((o) => o.openedAt > req.requestedAt);
    return newEvidence({ service: inc.service, incidentId: inc.id, since: req.requestedAt, suspectId: inc.correlation?.suspect?.deployment.id ?? null, deployments, pipelineServices, dependsOn, incidents });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    deps.logger.warn({ incidentId: inc.id, stage: 'decide', err: errorMessage(err) }, 'new evidence could not be looked for this cycle');
    return null;
  }
}
