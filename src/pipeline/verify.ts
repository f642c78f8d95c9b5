import { stillDeviating, type MetricEvent } from '../incident/grouping.js';
import type { Incident } from '../incident/incident.js';
import { announce } from './announce.js';
import { refreshChart } from './chart-refresh.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { moveIncident, saveIncident } from './transitions.js';

/** Health of an incident's metrics in this cycle's datapoints: null when none arrived. */
export function cycleHealth(inc: Incident, events: readonly MetricEvent[]): boolean | null {
  const since = inc.verification?.startedAt ?? 0;
  const relevant = events.filter((e) => e.t > since && inc.signals.some((s) => s.metricId === e.metricId));
  if (relevant.length === 0) return null;
  // Going back towards normal is recovery, so only the direction that broke counts against it.
  return !relevant.some((e) => inc.signals.some((s) => s.metricId === e.metricId && ((e.anomalous && s.direction === e.direction) || stillDeviating(s, e.value))));
}

/** Resolves an incident once its metrics stayed healthy for the runbook's number of polls, in time. */
export async function verifyOne(deps: PipelineDeps, ctx: CycleContext, inc: Incident, events: readonly MetricEvent[]): Promise<void> {
  const v = inc.verification;
  if (inc.state !== 'verifying' || !v || !inc.runbook) return;
  const now = ctx.now;
  const health = cycleHealth(inc, events);
  const healthy = health === null ? v.healthyPolls : health ? v.healthyPolls + 1 : 0;
  const ends = healthy >= inc.runbook.verify.healthyPolls || now >= v.deadline;
  // The chart follows verification (the recovery, or its absence), refreshed with each write it makes.
  const chart = ends || healthy !== v.healthyPolls ? await refreshChart(deps, ctx, inc) : inc.chart;
  if (healthy >= inc.runbook.verify.healthyPolls) {
    const next = await moveIncident(deps.store, inc, 'resolved', now, 'verifier', `recovered: ${healthy} healthy polls after the runbook ran`, (n) => {
      if (n.verification) n.verification.healthyPolls = healthy;
      n.chart = chart;
    });
    await announce(deps, ctx, next, 'final', 'executed and verified: resolved');
    return;
  }
  if (now >= v.deadline) {
    let next = await moveIncident(deps.store, inc, 'not_recovered', now, 'verifier', 'the service did not recover in time after the runbook ran', (n) => {
      n.chart = chart;
    });
    next = await moveIncident(deps.store, next, 'needs_human', now, 'verifier', 'the runbook ran but the service did not recover; a person must take over');
    await announce(deps, ctx, next, 'final', 'executed but NOT recovered: needs a person');
    return;
  }
  if (healthy !== v.healthyPolls) {
    await saveIncident(deps.store, inc, now, 'verifier', 'verify.poll', (n) => {
      if (n.verification) n.verification.healthyPolls = healthy;
      n.chart = chart;
    }, { healthyPolls: healthy });
  }
}
