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
import { requestWarnings } from '../approval/request-warnings.js';
import { HOUR } from '../core/time.js';
import { freezeAt } from '../mute/mutes.js';

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
export async function proposeDraft(deps: PipelineDeps, ctx: CycleContext, drafting: Incident, facts: IncidentFacts, rb: DraftedRunbook, trace: PlanTrace): Promise<void> {
  const { store, policy, logger } = deps;
  const now = deps.clock.now();
  const { correlation, evidence } = facts;
  const problems = gateDraft(deps, rb);
  if (problems.length > 0) {
    const why = `the drafted runbook cannot run: ${describeDraftProblems(problems)}`;
    const next = await moveIncident(store, drafting, 'needs_human', now, 'planner', why, (n) => Object.assign(n, facts, { runbook: rb, plan: trace }), {
      problems: problems.map((p) => ({ ...p })),
      runbook: { templateId: rb.templateId, hash: rb.hash },
      plan: trace,
    });
    logger.warn({ incidentId: drafting.id, stage: 'draft', problems: problems.map((p) => p.code) }, 'draft refused by the gate; nobody is asked to approve it');
    await announce(deps, ctx, next, 'final', `needs a person: ${why}`.slice(0, 200));
    return;
  }
  const suspect = correlation.suspect?.deployment;
  // Whoever triggered the suspect deployment or wrote its commit may not approve its fix.
  const excluded = suspect ? selfApprovers(deps.policy.doc.approvers, suspect) : [];
  const opened = monotonicStamp(deps.clock);
  const channels = ['web', 'cli', ...deps.notifiers.map((n) => n.channel)];
  const next = await moveIncident(
    store,
    drafting,
    'awaiting_approval',
    now,
    'planner',
    [`runbook "${rb.title}" awaits ${policy.quorum[rb.risk].approvals} approval(s)`, proposalSummary(correlation, evidence), ...(await warningsFor(deps, ctx, drafting, rb))].filter(Boolean).join(' — '),
    (n) => {
      Object.assign(n, facts, { runbook: rb, plan: trace });
      n.approval = {
        runbookHash: rb.hash,
        requestedAt: now,
        expiresAt: addMs(now, policy.ttlMs),
        ...(opened ? { openedMonotonic: opened } : {}),
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
      plan: trace,
    },
  );
  logger.info({ incidentId: drafting.id, stage: 'draft', runbookHash: rb.hash, suspect: suspect?.id ?? null, planner: trace.planner }, 'approval requested');
  await announce(deps, ctx, next, 'proposal', `approval needed: ${rb.title}`);
}

/** Warnings for the request text: kill switch, shadow/dry run, freeze, hourly budget (read now, before anybody decides). */
async function warningsFor(deps: PipelineDeps, ctx: CycleContext, inc: Incident, rb: DraftedRunbook): Promise<string[]> {
  const { policy, store } = deps;
  return requestWarnings({
    killSwitchOn: await deps.killSwitch(ctx.signal).catch(() => true),
    mode: policy.doc.execution.mode,
    freeze: freezeAt(policy.doc, inc.service, ctx.now)?.id.replace(/^freeze:/, '') ?? null,
    stepsLastHour: await store.countStepsSince(addMs(ctx.now, -HOUR)),
    maxActionsPerHour: policy.doc.safety.maxActionsPerHour,
    steps: rb.steps.length,
  });
}
