import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import { INCIDENT_STATES, TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';
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

const ENDED: readonly IncidentState[] = [...TERMINAL_STATES];
const OPEN_AND_OWNED: readonly IncidentState[] = INCIDENT_STATES.filter((s) => !TERMINAL_STATES.has(s));

/** What /metrics derives from the durable record: the same figures on every task, and after a restart. */
export interface IncidentFigures {
  /** Seconds from the anomaly's onset to its first approval request (not a re-proposal or a re-draft), one per proposed incident. */
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
    const proposedAt = [...(i.requests ?? []).map((r) => r.requestedAt), ...(a ? [a.requestedAt] : [])];
    if (proposedAt.length > 0) f.onsetToProposal.push(Math.max(0, (Math.min(...proposedAt) - i.onsetAt) / 1000));
    if (a) {
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

/** How far back /metrics looks at ended incidents, and at most how many it reads per scrape. */
export interface IncidentMetricsWindow {
  /** Ended incidents opened within this long before now count (open ones always do). Default 24 h. */
  readonly endedWithinMs?: number;
  /** At most this many ended incidents per scrape (newest first). Default 500. */
  readonly endedLimit?: number;
}

/**
 * Registers the incident metrics: onset → proposal and proposal → decision histograms, approvals by
 * channel, actions by result, over the incidents open now and those that ended among the ones opened in
 * the last `endedWithinMs`. A scrape reads only those (two bounded listings) and the decisions of the
 * incidents it has not seen ended before, so what it costs follows the recent workload, not how much
 * history is stored. `now` is the pipeline's clock (simulated time in the demo).
 */
export function registerIncidentMetrics(registry: Registry, store: Pick<Store, 'listIncidents' | 'listDecisions'>, now: () => EpochMs, window: IncidentMetricsWindow = {}): void {
  const withinMs = window.endedWithinMs ?? 24 * 3_600_000;
  const endedLimit = window.endedLimit ?? 500;
  // An ended incident's decisions no longer change: read once, kept while it stays in the window.
  let endedDecisions = new Map<string, { version: number; decisions: readonly Decision[] }>();
  let figures: Promise<IncidentFigures> | null = null;
  // One store read per scrape, shared by the four metrics.
  const read = (): Promise<IncidentFigures> => {
    figures ??= (async () => {
      const open = await store.listIncidents({ states: OPEN_AND_OWNED });
      const ended = await store.listIncidents({ states: ENDED, openedAfter: (now() - withinMs) as EpochMs, limit: endedLimit });
      const keep = new Map<string, { version: number; decisions: readonly Decision[] }>();
      const ds = new Map<string, readonly Decision[]>();
      for (const i of open) ds.set(i.id, i.approval ? await store.listDecisions(i.id) : []);
      for (const i of ended) {
        const known = endedDecisions.get(i.id);
        const entry = known && known.version === i.version ? known : { version: i.version, decisions: i.approval ? await store.listDecisions(i.id) : [] };
        keep.set(i.id, entry);
        ds.set(i.id, entry.decisions);
      }
      endedDecisions = keep;
      setTimeout(() => (figures = null), 1000).unref();
      return incidentFigures([...open, ...ended], (id) => ds.get(id) ?? []);
    })();
    return figures;
  };
  const buckets = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  new Histogram({ name: 'cloudops_onset_to_proposal_seconds', help: 'Time from the anomaly onset to the first approval request of the incident (incidents open now or opened within the metrics window, 24 h by default)', buckets, registers: [registry], async collect() {
    this.reset();
    for (const v of (await read()).onsetToProposal) this.observe(v);
  } });
  new Histogram({ name: 'cloudops_proposal_to_decision_seconds', help: 'Time from the approval request to its first decision (incidents open now or opened within the metrics window, 24 h by default)', buckets, registers: [registry], async collect() {
    this.reset();
    for (const v of (await read()).proposalToDecision) this.observe(v);
  } });
  new Counter({ name: 'cloudops_approvals_total', help: 'Approvals recorded, by channel (incidents open now or opened within the metrics window, 24 h by default)', labelNames: ['channel'], registers: [registry], async collect() {
    this.reset();
    for (const [channel, n] of (await read()).approvalsByChannel) this.inc({ channel }, n);
  } });
  new Counter({ name: 'cloudops_actions_total', help: 'Runbook steps by action and result (incidents open now or opened within the metrics window, 24 h by default)', labelNames: ['action', 'result'], registers: [registry], async collect() {
    this.reset();
    for (const { action, result, n } of (await read()).actions.values()) this.inc({ action, result }, n);
  } });
}
