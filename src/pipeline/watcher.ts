import { errorMessage } from '../core/errors.js';
import type { EpochMs } from '../core/time.js';
import type { DecisionRequest } from '../approval/record-decision.js';
import { recordDecision } from '../approval/record-decision.js';
import type { Decision, Incident } from '../incident/incident.js';
import { StoreConflictError } from '../store/store.js';
import { OPEN_STATES } from '../incident/lifecycle.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { decideOne, type DecideOutcome } from './decide.js';
import { executeOne } from './execute.js';
import { retryFailedAnnouncements } from './announce.js';
import { observe } from './observe.js';
import { openIncidents } from './open-incidents.js';
import { proposeAll } from './propose.js';
import { verifyOne } from './verify.js';

/**
 * Runs the pipeline. All work (poll cycles, decisions arriving from people, executions) goes through one
 * serial queue, so a cycle never overlaps the one before it and two decisions never race inside this
 * process; the store's conditional writes guard against other processes.
 */
export class Watcher {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  cycles = 0;
  lastCycleAt: number | null = null;
  lastError: string | null = null;

  constructor(readonly deps: PipelineDeps) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Queues `fn` after everything already queued. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private ctx(): CycleContext {
    return { now: this.deps.clock.now(), signal: this.abort.signal };
  }

  /** One poll cycle: observe → detect → group → propose → decide → execute → verify. */
  runCycle(): Promise<void> {
    return this.enqueue(async () => {
      const ctx = this.ctx();
      const log = this.deps.logger.child({ stage: 'cycle' });
      try {
        const open = await this.deps.store.listIncidents({ states: [...OPEN_STATES] });
        const frozen = new Set(open.flatMap((i) => i.signals.filter((s) => s.clearedAt === null).map((s) => s.metricId)));
        const events = await observe(this.deps, ctx, frozen);
        await openIncidents(this.deps, ctx, events);
        await proposeAll(this.deps, ctx);
        for (const inc of await this.deps.store.listIncidents({ states: ['awaiting_approval'] })) {
          const out = await decideOne(this.deps, ctx, inc);
          if (out === 'approved') await this.executeNow(inc.id, ctx);
        }
        for (const inc of await this.deps.store.listIncidents({ states: ['approved', 'executing'] })) await executeOne(this.deps, ctx, inc);
        for (const inc of await this.deps.store.listIncidents({ states: ['verifying'] })) await verifyOne(this.deps, ctx, inc, events);
        // Final states that failed to reach a channel are sent again (a few attempts, then audited).
        await retryFailedAnnouncements(this.deps, ctx);
        this.cycles++;
        this.lastCycleAt = ctx.now;
        this.lastError = null;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.lastError = errorMessage(err);
        log.error({ err: this.lastError }, 'cycle failed; the next cycle retries');
      }
    });
  }

  private async executeNow(id: string, ctx: CycleContext): Promise<void> {
    const inc = await this.deps.store.getIncident(id);
    if (inc && (inc.state === 'approved' || inc.state === 'executing')) await executeOne(this.deps, ctx, inc);
  }

  /**
   * Records a person's decision and acts on it at once: a met quorum starts execution in the background
   * (the caller gets the decision back without waiting for the runbook to run).
   */
  async decide(req: DecisionRequest): Promise<{ decision: Decision; outcome: DecideOutcome; incident: Incident | null }> {
    return this.enqueue(async () => {
      const ctx = this.ctx();
      const decision = await recordDecision(this.deps.store, this.deps.policy, req, ctx.now as EpochMs);
      const inc = await this.deps.store.getIncident(req.incidentId);
      let outcome: DecideOutcome = 'waiting';
      if (inc) {
        try {
          outcome = await decideOne(this.deps, ctx, inc);
        } catch (err) {
          if (!(err instanceof StoreConflictError)) throw err;
        }
      }
      if (outcome === 'approved') {
        void this.enqueue(() => this.executeNow(req.incidentId, this.ctx())).catch((err: unknown) => {
          this.deps.logger.error({ incidentId: req.incidentId, stage: 'execute', err: errorMessage(err) }, 'execution failed');
        });
      }
      return { decision, outcome, incident: await this.deps.store.getIncident(req.incidentId) };
    });
  }

  /** Waits for queued work to finish (shutdown, tests). */
  async drain(): Promise<void> {
    await this.enqueue(async () => undefined);
  }

  /** Stops: cancels in-flight I/O; queued work sees the aborted signal. */
  stop(): void {
    this.abort.abort(new Error('shutting down'));
  }
}
