import { Counter, Histogram, type Registry } from 'prom-client';
import type { Decision, Incident } from '../incident/incident.js';
import type { Store } from '../store/store.js';

/** What the pipeline counts; the daemon backs it with Prometheus (/metrics), tests with nothing. */
export interface PipelineMetrics {
  /** One item (or a whole stage) failed in `stage`. */
  stageFailed(stage: string): void;
  /** A cycle ended: `ok`, `error` (a stage failed) or `overrun` (it passed its deadline). */
  cycleEnded(outcome: 'ok' | 'error' | 'overrun', seconds: number): void;
}

export const noMetrics: PipelineMetrics = {
  stageFailed: () => undefined,
  cycleEnded: () => undefined,
};

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
