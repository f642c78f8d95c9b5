import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Decision, Incident } from '../incident/incident.js';
import type { PlanTrace } from '../runbook/planner.js';
import type { Store } from '../store/store.js';
import type { LeaderStatus } from './leader.js';

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

/** What /metrics derives from the durable record: the same figures on every task, and after a restart. */
export interface IncidentFigures {
  /** Seconds from the anomaly's onset to the approval request, one per proposed incident. */
  readonly onsetToProposal: number[];
  /** Seconds from the approval request to its first decision on that runbook, one per decided incident. */
  readonly proposalToDecision: number[];
  /** Approvals recorded, by channel. */
  readonly approvalsByChannel: Map<string, number>;
  /** Steps by action and result (succeeded, failed, skipped_already_done, handed_to_human, started). */
  readonly actions: Map<string, { action: string; result: string; n: number }>;
}

/** The figures over incidents and their decisions. Pure. */
export function incidentFigures(incidents: readonly Incident[], decisionsOf: (id: string) => readonly Decision[]): IncidentFigures {
  const f: IncidentFigures = { onsetToProposal: [], proposalToDecision: [], approvalsByChannel: new Map(), actions: new Map() };
  for (const i of incidents) {
    const a = i.approval;
    const ds = decisionsOf(i.id);
    if (a) {
      f.onsetToProposal.push(Math.max(0, (a.requestedAt - i.onsetAt) / 1000));
      const first = ds.filter((d) => d.runbookHash === a.runbookHash).reduce<number | null>((m, d) => (m === null || d.at < m ? d.at : m), null);
      if (first !== null) f.proposalToDecision.push(Math.max(0, (first - a.requestedAt) / 1000));
    }
    for (const d of ds) if (d.verdict === 'approve') f.approvalsByChannel.set(d.channel, (f.approvalsByChannel.get(d.channel) ?? 0) + 1);
    for (const s of i.steps) {
      const k = `${s.action}\u0000${s.status}`;
      const cur = f.actions.get(k);
      f.actions.set(k, { action: s.action, result: s.status, n: (cur?.n ?? 0) + 1 });
    }
  }
  return f;
}

/**
 * Registers the incident metrics: onset → proposal and proposal → decision histograms, approvals by
 * channel, actions by result. Each scrape recomputes them from the store (at most `limit` incidents).
 */
export function registerIncidentMetrics(registry: Registry, store: Pick<Store, 'listIncidents' | 'listDecisions'>, limit = 1000): void {
  let figures: Promise<IncidentFigures> | null = null;
  // One store read per scrape, shared by the four metrics.
  const read = (): Promise<IncidentFigures> => {
    figures ??= (async () => {
      const incs = await store.listIncidents({ limit });
      const ds = new Map(await Promise.all(incs.map(async (i) => [i.id, await store.listDecisions(i.id)] as const)));
      setTimeout(() => (figures = null), 1000).unref();
      return incidentFigures(incs, (id) => ds.get(id) ?? []);
    })();
    return figures;
  };
  const buckets = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  new Histogram({ name: 'cloudops_onset_to_proposal_seconds', help: 'Time from the anomaly onset to the approval request', buckets, registers: [registry], async collect() {
    this.reset();
    for (const v of (await read()).onsetToProposal) this.observe(v);
  } });
  new Histogram({ name: 'cloudops_proposal_to_decision_seconds', help: 'Time from the approval request to its first decision', buckets, registers: [registry], async collect() {
    this.reset();
    for (const v of (await read()).proposalToDecision) this.observe(v);
  } });
  new Counter({ name: 'cloudops_approvals_total', help: 'Approvals recorded, by channel', labelNames: ['channel'], registers: [registry], async collect() {
    this.reset();
    for (const [channel, n] of (await read()).approvalsByChannel) this.inc({ channel }, n);
  } });
  new Counter({ name: 'cloudops_actions_total', help: 'Runbook steps by action and result', labelNames: ['action', 'result'], registers: [registry], async collect() {
    this.reset();
    for (const { action, result, n } of (await read()).actions.values()) this.inc({ action, result }, n);
  } });
}
