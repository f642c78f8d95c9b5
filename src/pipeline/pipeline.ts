import { errorMessage } from '../core/errors.js';
import type { MetricEvent } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import { OPEN_STATES, type IncidentState } from '../incident/lifecycle.js';
import { retryFailedAnnouncements } from './announce.js';
import { admit, type CycleContext, type ObservedCycle, type PipelineDeps } from './context.js';
import { decideOne } from './decide.js';
import { deadlineContext } from './deadline.js';
import { draftStage, type DraftLane } from './draft.js';
import { executeOnce } from './execute-once.js';
import { recordFailure } from './failures.js';
import { observe } from './observe.js';
import { openIncidents } from './open-incidents.js';
import { proposeStage } from './propose.js';
import { eachItem, pipe, route, stage, type Stage } from './stage.js';
import { moveIncident } from './transitions.js';
import { verifyOne } from './verify.js';
import { gated, isolated, retrying, withStageDeadline, type RetryOptions } from './wrappers.js';

/** Told of every failure in a cycle (the Watcher keeps the cycle's first for /readyz and logs). */
export type FailureSink = (stage: string, err: unknown, incidentId: string | null) => void;

/**
 * The owning stage of every non-terminal state: each state is moved on by exactly one stage, with a
 * bound on how long it may stay (see each stage's doc). Terminal states have no owner.
 */
export const STATE_OWNERS: Readonly<Partial<Record<IncidentState, string>>> = {
  detected: 'propose',
  drafting: 'draft',
  awaiting_approval: 'decide',
  approved: 'execute',
  executing: 'execute',
  verifying: 'verify',
  // Both are passed through on the way to needs_human in one go; a crash in between leaves them here.
  not_recovered: 'hand-over',
  failed: 'hand-over',
};

const OWNED_STATES = Object.keys(STATE_OWNERS) as IncidentState[];

/**
 * The whole pipeline as one value: observe → group → the incident stages routed by state → announce
 * retries. Every incident stage is wrapped the same way (`standard`): its own deadline, the gate
 * (draining, leader lease), per-incident isolation, and retries of retryable port errors.
 */
export function buildPipeline(deps: PipelineDeps, lane: DraftLane, failed: FailureSink): Stage<never, Incident> {
  const retry: RetryOptions = { clock: deps.clock, retries: deps.settings.retries, backoffMs: deps.settings.retryBackoffMs };
  const reload = (inc: Incident): Promise<Incident | null> => deps.store.getIncident(inc.id);
  const onFailure = async (_ctx: CycleContext, inc: Incident, err: unknown, name: string): Promise<void> => {
    failed(name, err, inc.id);
    await recordFailure(deps, inc, name, err);
  };
  const standard = <C extends CycleContext>(s: Stage<Incident, Incident, C>): Stage<Incident, Incident, C> =>
    withStageDeadline(
      gated(isolated(retrying(s, retry, reload), onFailure), (ctx, name) => admit(deps, ctx, name), (inc, why) => deps.logger.debug({ incidentId: inc.id, stage: s.name, why }, 'held back')),
      deps.clock,
      deps.settings.stageTimeoutMs,
    );

  const propose = standard(proposeStage(deps));
  const draft = standard(draftStage(deps, lane));
  const decide = standard(
    eachItem('decide', async (ctx, inc) => ((await decideOne(deps, ctx, inc)) === 'approved' ? reload(inc) : null)),
  );
  const execute = standard(
    eachItem('execute', async (ctx, inc) => {
      await executeOnce(deps, ctx, inc);
      const now = await reload(inc);
      return now?.state === 'verifying' ? now : null;
    }),
  );
  const verify = standard(
    eachItem<Incident, Incident, ObservedCycle>('verify', async (ctx, inc) => {
      await verifyOne(deps, ctx, inc, ctx.events);
      return null;
    }),
  );
  const handOver = standard(
    eachItem<Incident, Incident>('hand-over', async (ctx, inc) => {
      await moveIncident(deps.store, inc, 'needs_human', ctx.now, 'watcher', `${inc.reason}; a person must take over`);
      return null;
    }),
  );
  const executeAndVerify = pipe(execute, verify);
  const incidents = route<Incident, Incident, ObservedCycle>('incidents', (i) => i.state, [
    ['detected', pipe(propose, draft)],
    ['drafting', draft],
    ['awaiting_approval', pipe(decide, executeAndVerify)],
    ['approved', executeAndVerify],
    ['executing', executeAndVerify],
    ['verifying', verify],
    ['failed', handOver],
    ['not_recovered', handOver],
  ]);

  /** A stage over the whole cycle (not one incident): a failure is counted and logged, and the cycle goes on without its output. */
  const cycleWide = async <T>(ctx: CycleContext, name: string, fallback: T, fn: (c: CycleContext) => Promise<T>): Promise<T> => {
    const held = await admit(deps, ctx, name);
    if (held !== null) return fallback;
    const d = deadlineContext(deps.clock, ctx, deps.settings.stageTimeoutMs, `stage ${name}`);
    try {
      return await fn(d.ctx);
    } catch (err) {
      failed(name, err, null);
      deps.pipelineMetrics.stageFailed(name);
      deps.logger.error({ stage: name, err: errorMessage(err) }, 'stage failed; the rest of the cycle goes on');
      return fallback;
    } finally {
      d.done();
    }
  };

  return stage('cycle', async (ctx) => {
    const frozen = await cycleWide(ctx, 'observe', null as ReadonlySet<string> | null, async () => {
      const open = await deps.store.listIncidents({ states: [...OPEN_STATES] });
      return new Set(open.flatMap((i) => i.signals.filter((s) => s.clearedAt === null).map((s) => s.metricId)));
    });
    // Without the open incidents' metrics nothing may be learned: observing waits for the next cycle.
    const events: readonly MetricEvent[] = frozen === null ? [] : await cycleWide(ctx, 'observe', [] as MetricEvent[], (c) => observe(deps, c, frozen));
    await cycleWide(ctx, 'group', undefined, (c) => openIncidents(deps, c, events));
    // Even when observing or grouping failed, decisions, expiry, execution and verification go on.
    // Every incident in an owned state, and no more: counted first (index only), so the listing reads
    // exactly what the owning stages will move, however much ended history the store keeps.
    const owned = await cycleWide(ctx, 'list', [] as Incident[], async (c) => {
      const counts = await deps.store.countIncidentsByState({ states: OWNED_STATES }, { signal: c.signal });
      const n = OWNED_STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
      return n === 0 ? [] : deps.store.listIncidents({ states: OWNED_STATES, limit: n }, { signal: c.signal });
    });
    const out = await incidents.run({ ...ctx, events }, owned);
    // Final states that failed to reach a channel are sent again (a few attempts, then audited).
    await cycleWide(ctx, 'announce', 0, (c) => retryFailedAnnouncements(deps, c));
    return out;
  });
}
