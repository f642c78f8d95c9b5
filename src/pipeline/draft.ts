import { errorMessage } from '../core/errors.js';
import { addMs } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import { proposalSummary } from '../incident/summary.js';
import { asFallback, type PlanResult, type Planner } from '../runbook/planner.js';
import { StoreConflictError } from '../store/store.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { deadlineContext } from './deadline.js';
import { gatherFacts, type IncidentFacts } from './evidence.js';
import { recordFailure } from './failures.js';
import { proposeDraft } from './propose-draft.js';
import { eachItem, type Stage } from './stage.js';
import { withRetry } from './wrappers.js';
import { moveIncident, saveIncident } from './transitions.js';
import { announce } from './announce.js';

/**
 * Drafting runs here, beside the decision path: each attempt has its own deadline and AbortSignal,
 * and a cycle (or a person's decision) never waits for a model call. One attempt per incident at a time
 * in this process.
 */
export class DraftLane {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: PipelineDeps) {}

  has(incidentId: string): boolean {
    return this.inFlight.has(incidentId);
  }

  /** Starts attempt `attempt` of `inc` with `planner`; the promise settles when it is over and never rejects. */
  start(inc: Incident, attempt: number, planner: Planner, fallbackReason: string | null): Promise<void> {
    const { clock, settings } = this.deps;
    const now = clock.now();
    const base: CycleContext = { now, deadline: addMs(now, settings.draftTimeoutMs), signal: this.abort.signal };
    const d = deadlineContext(clock, base, settings.draftTimeoutMs, `drafting attempt ${attempt} of ${inc.id}`);
    const run = draftAttempt(this.deps, d.ctx, inc, attempt, planner, fallbackReason)
      .catch((err: unknown) => recordFailure(this.deps, inc, 'draft', err))
      .finally(() => {
        d.done();
        this.inFlight.delete(inc.id);
      });
    this.inFlight.set(inc.id, run);
    return run;
  }

  /** Settles when every attempt in flight now is over. */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight.values()]);
  }

  /** Aborts every attempt in flight (shutdown): each is recorded as failed and counted, and retried after a restart. */
  stop(reason: Error): void {
    this.abort.abort(reason);
  }
}

/**
 * The owner of `drafting`. An incident with no attempt in flight here (the last one failed, or the
 * process that ran it died) gets its next attempt, counted before it starts so an attempt cut short by a
 * crash or SIGTERM still counts; the last attempt uses the template planner; after
 * `pipeline.draftAttempts` attempts it goes to a person with the reason. Bound: draftAttempts ×
 * (draftTimeout + one poll interval).
 */
export function draftStage(deps: PipelineDeps, lane: DraftLane): Stage<Incident> {
  return eachItem<Incident, Incident>('draft', async (ctx, inc) => {
    if (inc.state !== 'drafting' || lane.has(inc.id)) return null;
    const done = inc.drafting?.attempts ?? 0;
    const max = deps.settings.draftAttempts;
    const lastError = inc.drafting?.lastError ?? 'interrupted (the process stopped during the attempt)';
    if (done >= max) {
      const next = await moveIncident(deps.store, inc, 'needs_human', ctx.now, 'watcher', `no runbook could be drafted after ${done} attempt(s): ${lastError}`, undefined, { attempts: done });
      await announce(deps, ctx, next, 'final', 'needs a person: no runbook could be drafted');
      return null;
    }
    const attempt = done + 1;
    const useFallback = attempt === max && deps.fallbackPlanner !== deps.planner;
    const planner = useFallback ? deps.fallbackPlanner : deps.planner;
    const fallbackReason = useFallback ? `${deps.planner.kind} planner failed ${done} attempt(s): ${lastError}` : null;
    const started = await saveIncident(deps.store, inc, ctx.now, 'watcher', 'draft.attempt', (n) => {
      n.drafting = { attempts: attempt, startedAt: ctx.now, lastError: n.drafting?.lastError ?? null };
    }, { attempt, of: max, planner: planner.kind });
    void lane.start(started, attempt, planner, fallbackReason);
    return null;
  });
}

/** One drafting attempt: evidence, the plan, then the proposal (or a person). Port errors are retried within the attempt's deadline. */
async function draftAttempt(deps: PipelineDeps, ctx: CycleContext, inc: Incident, attempt: number, planner: Planner, fallbackReason: string | null): Promise<void> {
  const retry = { clock: deps.clock, retries: deps.settings.retries, backoffMs: deps.settings.retryBackoffMs };
  const facts = await withRetry(ctx, retry, () => gatherFacts(deps, ctx, inc));
  const withFacts: Incident = { ...inc, ...facts };
  let plan: PlanResult = await withRetry(ctx, retry, () => planner.draft(withFacts, ctx.signal));
  deps.pipelineMetrics.planned?.(plan.trace);
  if (plan.kind === 'none' && planner !== deps.fallbackPlanner) {
    plan = asFallback(await deps.fallbackPlanner.draft(withFacts, ctx.signal), `${planner.kind} planner: ${plan.reason}`);
  } else if (fallbackReason) {
    plan = asFallback(plan, fallbackReason);
  }
  await settleDraft(deps, ctx, inc.id, attempt, facts, plan);
}

/**
 * Writes the attempt's outcome onto the incident as it is now (grouping may have added signals while
 * the planner ran: a version conflict is re-read and written again), unless a later attempt or another
 * writer moved it on.
 */
async function settleDraft(deps: PipelineDeps, ctx: CycleContext, id: string, attempt: number, facts: IncidentFacts, plan: PlanResult): Promise<void> {
  for (let tries = 0; ; tries++) {
    const current = await deps.store.getIncident(id);
    if (!current || current.state !== 'drafting' || (current.drafting?.attempts ?? 0) !== attempt) {
      deps.logger.info({ incidentId: id, stage: 'draft', attempt }, 'draft dropped: the incident moved on while it was drafted');
      return;
    }
    try {
      if (plan.kind === 'none') {
        const next = await moveIncident(deps.store, current, 'needs_human', deps.clock.now(), 'planner', [plan.reason, proposalSummary(facts.correlation, facts.evidence)].filter(Boolean).join(' — '), (n) => Object.assign(n, facts, { plan: plan.trace }), { suspect: facts.correlation.suspect?.deployment.id ?? null, plan: plan.trace });
        await announce(deps, ctx, next, 'final', `needs a person: ${plan.reason}`);
        return;
      }
      await proposeDraft(deps, ctx, current, facts, plan.runbook, plan.trace);
      return;
    } catch (err) {
      if (!(err instanceof StoreConflictError) || tries >= 3) throw err;
      deps.logger.debug({ incidentId: id, stage: 'draft', err: errorMessage(err) }, 'incident changed while drafting; writing the draft again');
    }
  }
}
