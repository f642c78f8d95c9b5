import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LeaderStatus } from './leader.js';
import type { PlanTrace } from '../runbook/planner.js';

/** What the pipeline counts; the daemon backs it with Prometheus (/metrics), tests with nothing. */
export interface PipelineMetrics {
  /** One item (or a whole stage) failed in `stage`. */
  stageFailed(stage: string): void;
  /** A cycle ended: `ok`, `error` (a stage failed) or `overrun` (it passed its deadline). */
  cycleEnded(outcome: 'ok' | 'error' | 'overrun', seconds: number): void;
  /** A drafting attempt produced a plan: what it spent (tokens, guardrail units, dollars), when a model was involved. */
  planned?(trace: PlanTrace): void;
}

export const noMetrics: PipelineMetrics = {
  stageFailed: () => undefined,
  cycleEnded: () => undefined,
};

/**
 * The leader lease on /metrics: `cloudops_leader` (1 while this process acts), `cloudops_lease_token`
 * (the token held or last held) and `cloudops_lease_age_seconds` (since the store last answered a
 * renewal; it rises when the store cannot be reached, and the leader stops acting before it passes the TTL).
 */
export function registerLeaderMetrics(registry: Registry, status: () => LeaderStatus): void {
  new Gauge({ name: 'cloudops_leader', help: '1 while this process holds the leader lease and acts, 0 while it follows', registers: [registry], collect() { this.set(status().role === 'leader' ? 1 : 0); } });
  new Gauge({ name: 'cloudops_lease_token', help: 'Fencing token of the leader lease this process holds or last held (0: never held)', registers: [registry], collect() { this.set(status().token ?? 0); } });
  new Gauge({
    name: 'cloudops_lease_age_seconds',
    help: 'Seconds since the store last answered a lease renewal of this process (-1: never)',
    registers: [registry],
    collect() {
      const ms = status().sinceLastAnswerMs;
      this.set(ms === null ? -1 : ms / 1000);
    },
  });
}

/**
 * Planner spend on /metrics: totals by token kind and in dollars, and per-incident distributions
 * (one observation per drafting attempt that called a model), labelled by who drafted what is proposed.
 */
export function planSpendMetrics(registry: Registry): Required<Pick<PipelineMetrics, 'planned'>> {
  const tokens = new Counter({ name: 'cloudops_agent_tokens_total', help: 'Model tokens spent drafting, by kind (input, output, cache_read, cache_write)', labelNames: ['kind'], registers: [registry] });
  const usd = new Counter({ name: 'cloudops_agent_usd_total', help: 'Dollars spent drafting (model calls and ApplyGuardrail) at the policy prices', registers: [registry] });
  const units = new Counter({ name: 'cloudops_agent_guardrail_text_units_total', help: 'ApplyGuardrail text units billed on tool results', registers: [registry] });
  const perIncidentUsd = new Histogram({ name: 'cloudops_agent_incident_usd', help: 'Dollars spent on one incident drafting attempt', labelNames: ['planner'], buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  const perIncidentTokens = new Histogram({ name: 'cloudops_agent_incident_tokens', help: 'Tokens (all kinds) spent on one incident drafting attempt', labelNames: ['planner'], buckets: [1e3, 5e3, 1e4, 2.5e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6], registers: [registry] });
  return {
    planned(trace) {
      const s = trace.spend;
      if (!s) return;
      tokens.inc({ kind: 'input' }, s.input);
      tokens.inc({ kind: 'output' }, s.output);
      tokens.inc({ kind: 'cache_read' }, s.cacheRead);
      tokens.inc({ kind: 'cache_write' }, s.cacheWrite);
      usd.inc(s.usd);
      units.inc(s.guardrailUnits);
      perIncidentUsd.observe({ planner: trace.planner }, s.usd);
      perIncidentTokens.observe({ planner: trace.planner }, s.input + s.output + s.cacheRead + s.cacheWrite);
    },
  };
}
