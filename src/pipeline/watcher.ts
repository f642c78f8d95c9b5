import { ApprovalError } from '../approval/errors.js';
import type { DecisionRequest } from '../approval/record-decision.js';
import { recordDecision } from '../approval/record-decision.js';
import { monotonicStamp } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { addMs, type EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { deadlineContext } from './deadline.js';
import { decideOne, type DecideOutcome } from './decide.js';
import { DraftLane } from './draft.js';
import { executeOnce } from './execute-once.js';
import { buildPipeline } from './pipeline.js';
import type { Stage } from './stage.js';

/** A decision that was not recorded (the daemon was busy past the decision deadline, or is shutting down): nothing will act on it. */
export class DecisionNotRecordedError extends ApprovalError {
  constructor(why: string) {
    super(`the decision was not recorded: ${why}; nothing will act on it — send it again`, 503);
  }
}

export type CycleOutcome = 'ok' | 'error' | 'overrun' | 'skipped';

/**
 * Runs the pipeline. Cycles and people's decisions go through one serial queue, so a cycle never
 * overlaps the one before it and two decisions never race inside this process (the store's
 * conditional writes guard against other processes). Drafting runs beside the queue (`DraftLane`): a
 * model call never holds a decision back. A cycle has a deadline; one that overruns is recorded and
 * the queue moves on.
 */
export class Watcher {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  readonly lane: DraftLane;
  readonly pipeline: Stage<never, Incident>;
  cycles = 0;
  overruns = 0;
  /** Pipeline time of the last cycle that finished. */
  lastCycleAt: EpochMs | null = null;
  /** Monotonic time (performance.now) of the last cycle that finished without a failure. */
  lastSuccessMono: number | null = null;
  lastError: string | null = null;
  private cycleFailures: string[] = [];
  /** Failures of a whole stage (observe, group …) this cycle: those make it unsuccessful for /readyz, one incident's do not. */
  private cycleWideFailures = 0;

  constructor(readonly deps: PipelineDeps) {
    this.lane = new DraftLane(deps);
    this.pipeline = buildPipeline(deps, this.lane, (stage, err, incidentId) => {
      this.cycleFailures.push(`${stage}${incidentId ? ` (${incidentId})` : ''}: ${errorMessage(err)}`);
      if (incidentId === null) this.cycleWideFailures++;
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Queues `fn` after everything already queued. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private base(ms: number): CycleContext {
    const now = this.deps.clock.now();
    return { now, deadline: addMs(now, ms), signal: this.abort.signal };
  }

  /**
   * One poll cycle, then waits for the drafts it started (outside the queue: decisions go on
   * meanwhile). Replays and tests use this; the daemon's schedule uses `cycle()`.
   */
  async runCycle(): Promise<void> {
    await this.cycle();
    await this.lane.idle();
  }

  /**
   * One poll cycle: observe → group → incident stages → announcement retries, within the cycle
   * deadline. Past the deadline its signal aborts, the overrun is recorded, and the queue moves on
   * (work that ignores the signal may still finish later; the store's versioned writes keep it honest).
   */
  cycle(): Promise<CycleOutcome> {
    return this.enqueue(async () => {
      if (this.deps.run.admits() !== null || this.abort.signal.aborted) return 'skipped';
      const started = performance.now();
      const d = deadlineContext(this.deps.clock, this.base(this.deps.settings.cycleTimeoutMs), this.deps.settings.cycleTimeoutMs, 'the cycle');
      this.cycleFailures = [];
      this.cycleWideFailures = 0;
      let outcome: CycleOutcome;
      try {
        const overran = new Promise<'overrun'>((resolve) => {
          if (d.ctx.signal.aborted) resolve('overrun');
          d.ctx.signal.addEventListener('abort', () => resolve('overrun'), { once: true });
        });
        const work = this.pipeline.run(d.ctx, []).then(() => 'done' as const);
        work.catch(() => undefined);
        const r = await Promise.race([work, overran]);
        outcome = r === 'overrun' && !this.abort.signal.aborted ? 'overrun' : this.cycleFailures.length > 0 ? 'error' : 'ok';
      } catch (err) {
        this.cycleFailures.push(`cycle: ${errorMessage(err)}`);
        outcome = 'error';
      } finally {
        d.done();
      }
      if (this.abort.signal.aborted) return 'skipped';
      this.cycles++;
      this.lastCycleAt = d.ctx.now;
      const seconds = (performance.now() - started) / 1000;
      if (outcome === 'overrun') {
        this.overruns++;
        this.lastError = `the cycle overran its deadline of ${Math.round(this.deps.settings.cycleTimeoutMs / 1000)} s`;
        this.deps.logger.error({ stage: 'cycle', seconds }, 'cycle overran its deadline; the next cycle still starts');
        await this.deps.store.appendAudit({ at: this.deps.clock.now(), incidentId: null, kind: 'cycle.overrun', actor: 'watcher', data: { startedAt: d.ctx.now, deadline: d.ctx.deadline } }).catch(() => undefined);
      } else {
        this.lastError = outcome === 'error' ? this.cycleFailures.join('; ').slice(0, 1000) : null;
        if (this.cycleWideFailures === 0) this.lastSuccessMono = performance.now();
      }
      this.deps.pipelineMetrics.cycleEnded(outcome, seconds);
      return outcome;
    });
  }

  private async executeNow(id: string, ctx: CycleContext): Promise<void> {
    const inc = await this.deps.store.getIncident(id);
    if (inc && (inc.state === 'approved' || inc.state === 'executing')) await executeOnce(this.deps, ctx, inc);
  }

  /**
   * Records a person's decision and acts on it at once: a met quorum starts execution in the background
   * (the caller gets the decision back without waiting for the runbook to run). Either the decision is
   * recorded and the answer says so, or the answer is an error and it was not recorded: a decision that
   * waited past `pipeline.decisionTimeout` (wall time) for its turn is refused, never carried out later.
   */
  async decide(req: DecisionRequest): Promise<{ decision: Decision; outcome: DecideOutcome; incident: Incident | null }> {
    let abandoned = false;
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (started) return;
        abandoned = true;
        reject(new DecisionNotRecordedError(`the daemon was busy for more than ${Math.round(this.deps.settings.decisionTimeoutMs / 1000)} s`));
      }, this.deps.settings.decisionTimeoutMs);
    });
    timedOut.catch(() => undefined);
    const work = this.enqueue(async () => {
      if (abandoned) throw new DecisionNotRecordedError('it waited past its deadline');
      // Its turn came in time: the answer now waits for the outcome, whatever it is.
      started = true;
      clearTimeout(timer);
      const held = this.deps.run.admits();
      if (held !== null) throw new DecisionNotRecordedError(held);
      const ctx = this.base(this.deps.settings.stageTimeoutMs);
      const decision = await recordDecision(this.deps.store, this.deps.policy, req, ctx.now, monotonicStamp(this.deps.clock));
      // Recorded: from here on the answer is success; the cycles act on the decision whatever happens now.
      const inc = await this.deps.store.getIncident(req.incidentId).catch(() => null);
      let outcome: DecideOutcome = 'waiting';
      // A follower only records: the leader acts on the decision within its next cycle.
      const follower = inc ? await this.deps.gate(ctx, 'decide') : null;
      if (follower !== null) this.deps.logger.info({ incidentId: req.incidentId, stage: 'decide', why: follower }, 'decision recorded; the leader acts on it');
      if (inc && follower === null) {
        try {
          outcome = await decideOne(this.deps, ctx, inc);
        } catch (err) {
          this.deps.logger.warn({ incidentId: req.incidentId, stage: 'decide', err: errorMessage(err) }, 'decision recorded; the next cycle evaluates it');
        }
      }
      if (outcome === 'approved') {
        void this.enqueue(() => this.executeNow(req.incidentId, this.base(this.deps.settings.stageTimeoutMs))).catch((err: unknown) => {
          this.deps.logger.error({ incidentId: req.incidentId, stage: 'execute', err: errorMessage(err) }, 'execution failed');
        });
      }
      return { decision, outcome, incident: await this.deps.store.getIncident(req.incidentId).catch(() => null) };
    });
    try {
      return await Promise.race([work, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the work queued now (cycles, decisions, executions); drafts in flight go on. */
  async queueIdle(): Promise<void> {
    await this.enqueue(async () => undefined);
  }

  /** Waits for queued work and drafts in flight to finish (shutdown, tests). */
  async drain(): Promise<void> {
    await this.queueIdle();
    await this.lane.idle();
  }

  /** Stops drafting at once (it is retried after a restart); queued work sees the run state. */
  beginDrain(): void {
    this.lane.stop(new Error('shutting down'));
  }

  /** Cancels in-flight I/O: queued work sees the aborted signal. */
  stop(): void {
    this.lane.stop(new Error('shutting down'));
    this.abort.abort(new Error('shutting down'));
  }
}
