import { monotonicStamp } from '../core/clock.js';
import { addMs } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import { proposalSummary } from '../incident/summary.js';
import { checkDraft, describeDraftProblems, type DraftProblem } from '../runbook/draft-gate.js';
import type { PlanTrace } from '../runbook/planner.js';
import type { DraftedRunbook } from '../runbook/runbook.js';
import { announce } from './announce.js';
import type { CycleContext, PipelineDeps } from './context.js';
import type { IncidentFacts } from './evidence.js';
import { moveIncident } from './transitions.js';
import { selfApprovers } from '../approval/quorum.js';
import type { ApprovalRequest, Correlation } from '../incident/incident.js';
import { asRevision, describeDiff, nextVersionNumber, sameSteps, stepViews } from '../incident/revisions.js';
import { describeTrigger } from '../incident/lifecycle.js';
import { parseDuration, type EpochMs } from '../core/time.js';
import { requestWarnings } from '../approval/request-warnings.js';
import { freezeAt } from '../mute/mutes.js';
import { previewSteps, type PreviewOptions } from '../execute/step-preview.js';

/**
 * The draft gate's one call site: every drafted runbook passes `checkDraft` here, before any request
 * is sent. Empty = it may be proposed.
 */
export function gateDraft(deps: PipelineDeps, runbook: DraftedRunbook): readonly DraftProblem[] {
  return checkDraft(deps.policy, runbook);
}

/**
 * Asks for approval of a drafted runbook (drafting → awaiting_approval, then the announcement), or,
 * when the draft gate finds it cannot run, hands the incident to a person and asks nobody.
 */
/** A new approval request for `rb`: the policy's TTL and quorum, who may not approve, the channels it goes to. */
export function openRequest(deps: PipelineDeps, rb: DraftedRunbook, correlation: Correlation | null, now: EpochMs): ApprovalRequest {
  const suspect = correlation?.suspect?.deployment;
  // Whoever triggered the suspect deployment or wrote its commit may not approve its fix.
  const excluded = suspect ? selfApprovers(deps.policy.doc.approvers, suspect) : [];
  const opened = monotonicStamp(deps.clock);
  return {
    runbookHash: rb.hash,
    requestedAt: now,
    expiresAt: addMs(now, deps.policy.ttlMs),
    ...(opened ? { openedMonotonic: opened } : {}),
    requiredApprovals: deps.policy.quorum[rb.risk].approvals,
    excludedApprovers: excluded,
    channels: ['web', 'cli', ...deps.notifiers.map((n) => n.channel)],
    remindersSent: 0,
    escalated: false,
  };
}

/** The label of a proposal drafted by a fallback planner: who drafted it and why the first planner did not. */
export function fallbackLabel(trace: PlanTrace): string | null {
  return trace.fallbackReason ? `drafted by the ${trace.planner} planner because the agent failed: ${trace.fallbackReason}` : null;
}

/**
 * Asks for approval of a drafted runbook (drafting → awaiting_approval, then the announcement), or,
 * when the draft gate finds it cannot run, hands the incident to a person and asks nobody. A re-draft
 * is proposed as the next version (its own hash) and the channels are told what changed; a re-draft
 * after a reject that comes back with the same steps is not asked again: a person decides. A fallback
 * draft is labelled as such and the channels are told why the agent failed.
 */
export async function proposeDraft(deps: PipelineDeps, ctx: CycleContext, drafting: Incident, facts: IncidentFacts, drafted: DraftedRunbook, trace: PlanTrace): Promise<void> {
  const { store, policy, logger } = deps;
  const now = deps.clock.now();
  const { correlation, evidence } = facts;
  const redraft = drafting.redraft ?? null;
  const rb = redraft ? asRevision(drafted, nextVersionNumber(drafting.requests)) : drafted;
  if (redraft?.trigger.kind === 'rejected' && sameSteps(rb, redraft.previous)) {
    const why = `the re-draft after ${describeTrigger(redraft.trigger)} came back with the same steps; not asked again — a person decides (cloudops repropose|assign|close ${drafting.id})`;
    const next = await moveIncident(store, drafting, 'needs_human', now, 'planner', why, (n) => Object.assign(n, facts, { plan: trace, redraft: null }), { redraft: { count: redraft.count, unchanged: true }, plan: trace });
    await announce(deps, ctx, next, 'final', `needs a person: the re-draft did not change the runbook`);
    return;
  }
  const problems = gateDraft(deps, rb);
  if (problems.length > 0) {
    const why = `the drafted runbook cannot run: ${describeDraftProblems(problems)}`;
    const next = await moveIncident(store, drafting, 'needs_human', now, 'planner', why, (n) => Object.assign(n, facts, { runbook: rb, plan: trace, redraft: null }), {
      problems: problems.map((p) => ({ ...p })),
      runbook: { templateId: rb.templateId, hash: rb.hash },
      plan: trace,
    });
    logger.warn({ incidentId: drafting.id, stage: 'draft', problems: problems.map((p) => p.code) }, 'draft refused by the gate; nobody is asked to approve it');
    await announce(deps, ctx, next, 'final', `needs a person: ${why}`.slice(0, 200));
    return;
  }
  const suspect = correlation.suspect?.deployment;
  const previews = await previewSteps(deps.actions, rb.steps, previewOptions(policy.doc.execution), ctx.signal);
  const request = { ...openRequest(deps, rb, correlation, now), previews };
  const label = fallbackLabel(trace);
  const version = redraft ? `version ${rb.revision ?? 2} (re-drafted: ${describeTrigger(redraft.trigger)}) — ` : '';
  const next = await moveIncident(
    store,
    drafting,
    'awaiting_approval',
    now,
    'planner',
    [`${version}runbook "${rb.title}" awaits ${policy.quorum[rb.risk].approvals} approval(s)`, label, proposalSummary(correlation, evidence), ...(await warningsFor(deps, ctx, drafting, rb))].filter(Boolean).join(' — '),
    (n) => {
      Object.assign(n, facts, { runbook: rb, plan: trace, redraft: null });
      n.approval = request;
    },
    {
      suspect: suspect ? { id: suspect.id, pipeline: suspect.pipeline, score: correlation.suspect?.score, reasons: correlation.suspect?.reasons } : null,
      verdict: correlation.verdict,
      runbook: { templateId: rb.templateId, hash: rb.hash, risk: rb.risk, draftedBy: rb.draftedBy, revision: rb.revision ?? 1, steps: rb.steps.map((s) => ({ action: s.action, params: s.params })) },
      plan: trace,
      ...(label ? { fallback: label } : {}),
      ...(redraft ? { supersedes: redraft.previous.runbookHash, diff: describeDiff(redraft.previous.steps, stepViews(rb)) } : {}),
    },
  );
  logger.info({ incidentId: drafting.id, stage: 'draft', runbookHash: rb.hash, suspect: suspect?.id ?? null, planner: trace.planner }, 'approval requested');
  await announce(deps, ctx, next, 'proposal', `approval needed: ${rb.title}${redraft ? ` (version ${rb.revision ?? 2})` : ''}${label ? ' (template fallback)' : ''}`);
  if (redraft) {
    // Approvers of the old version are told what changed; their decisions on it no longer count.
    const diff = describeDiff(redraft.previous.steps, stepViews(rb));
    await announce(deps, ctx, { ...next, reason: `version ${redraft.previous.version} → ${rb.revision ?? 2} (${describeTrigger(redraft.trigger)}): ${diff}. Decisions on version ${redraft.previous.version} no longer count.` }, 'reminder', `version ${rb.revision ?? 2} replaces ${redraft.previous.version}: ${diff}`);
  }
  if (label) await announce(deps, ctx, { ...next, reason: label }, 'reminder', `the agent failed (${trace.fallbackReason ?? ''}); this is the template planner's proposal`);
}

/** Warnings for the request text: kill switch, shadow/dry run, freeze, hourly budget (read now, before anybody decides). */
async function warningsFor(deps: PipelineDeps, ctx: CycleContext, inc: Incident, rb: DraftedRunbook): Promise<string[]> {
  const { policy, store } = deps;
  return requestWarnings({
    killSwitchOn: await deps.killSwitch(ctx.signal).catch(() => true),
    mode: policy.doc.execution.mode,
    freeze: freezeAt(policy.doc, inc.service, ctx.now)?.id.replace(/^freeze:/, '') ?? null,
    stepsLastHour: await store.stepsInHour(ctx.now, { signal: ctx.signal }),
    maxActionsPerHour: policy.doc.safety.maxActionsPerHour,
    steps: rb.steps.length,
  });
}

/** The policy's preview prices and deadline. */
function previewOptions(e: { readonly prices: PreviewOptions['prices']; readonly previewTimeout: string }): PreviewOptions {
  return { prices: e.prices, timeoutMs: parseDuration(e.previewTimeout) };
}
