import type { ScenarioRun } from '../../src/cloud/sim/run-scenario.js';
import { parseDuration } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';

/** How one true incident of a scenario came out. */
export interface TruthOutcome {
  readonly scenario: string;
  readonly service: string;
  /** A deployment id, or "none". */
  readonly cause: string;
  readonly onset: number;
  /** "One incident or none": when nothing opened, the truth is not counted. */
  readonly optional: boolean;
  /** The incident matched to it (the first one of the service opened after its onset), if any. */
  readonly incidentId: string | null;
  /** What that incident blamed: a deployment id, "none", or null when nothing was proposed yet. */
  readonly blamed: string | null;
  readonly correct: boolean;
  /** Virtual seconds from the true onset to the proposal (awaiting_approval or needs_human). */
  readonly onsetToProposalS: number | null;
}

export interface ScenarioOutcome {
  readonly name: string;
  readonly truths: readonly TruthOutcome[];
  readonly incidentsOpened: number;
  /** Incidents that match no true incident, with what they blamed. */
  readonly spurious: readonly { readonly id: string; readonly service: string; readonly blamed: string | null }[];
}

/** An incident may be matched to a true onset up to this long before it (detector onsets are estimates). */
const EARLY_MS = 10 * 60_000;
const PROPOSED = new Set(['awaiting_approval', 'needs_human']);

const off = (s: string): number => (s.startsWith('-') ? -Number(parseDuration(s.slice(1))) : Number(parseDuration(s)));

function blamedBy(inc: Incident): string | null {
  if (!inc.correlation) return null;
  return inc.correlation.suspect?.deployment.id ?? 'none';
}

/** Compares a run's incidents with the scenario's ground truth. */
export function evaluate(run: ScenarioRun): ScenarioOutcome {
  const truths = [...run.scenario.truth].map((t) => ({ ...t, at: run.t0 + off(t.onset) })).sort((a, b) => a.at - b.at);
  const used = new Set<string>();
  const outcomes: TruthOutcome[] = [];
  for (const [i, t] of truths.entries()) {
    const nextSame = truths.slice(i + 1).find((x) => x.service === t.service)?.at ?? Infinity;
    const inc = run.incidents
      .filter((x) => x.service === t.service && !used.has(x.id) && x.openedAt >= t.at - EARLY_MS && x.onsetAt >= t.at - EARLY_MS && x.onsetAt < nextSame)
      .sort((a, b) => a.openedAt - b.openedAt)[0];
    if (inc) used.add(inc.id);
    const blamed = inc ? blamedBy(inc) : null;
    const proposedAt = inc
      ? run.audit.find((a) => a.incidentId === inc.id && a.kind === 'incident.transition' && PROPOSED.has(String(a.data['to'])))?.at ?? null
      : null;
    outcomes.push({
      scenario: run.scenario.name,
      service: t.service,
      cause: t.cause,
      onset: t.at,
      optional: t.optional,
      incidentId: inc?.id ?? null,
      blamed,
      correct: blamed === t.cause,
      onsetToProposalS: proposedAt === null ? null : Math.max(0, Math.round((proposedAt - t.at) / 1000)),
    });
  }
  return {
    name: run.scenario.name,
    truths: outcomes,
    incidentsOpened: run.incidents.length,
    spurious: run.incidents.filter((x) => !used.has(x.id)).map((x) => ({ id: x.id, service: x.service, blamed: blamedBy(x) })),
  };
}

export interface Summary {
  readonly scenarios: number;
  readonly top1: number;
  readonly false_blame: number;
  readonly incidents_per_true: number;
  readonly median_onset_to_proposal_s: number | null;
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The benchmark figures. top1: share of true incidents whose incident blamed the true cause (a missed
 * incident counts as wrong). false_blame: among the cases where the truth is "not a deployment" (true
 * incidents with cause none, and incidents matching no true incident), the share that blamed a deployment.
 * incidents_per_true: incidents opened / true incidents. An optional truth (one incident or none) counts
 * only when an incident matched it.
 */
export function summarize(outcomes: readonly ScenarioOutcome[]): Summary {
  // An optional truth ("one incident or none") that opened nothing is neither a hit nor a miss.
  const truths = outcomes.flatMap((o) => o.truths).filter((t) => !t.optional || t.incidentId !== null);
  const noneCases = [
    ...truths.filter((t) => t.cause === 'none').map((t) => t.blamed !== null && t.blamed !== 'none'),
    ...outcomes.flatMap((o) => o.spurious).map((s) => s.blamed !== null && s.blamed !== 'none'),
  ];
  const delays = truths.map((t) => t.onsetToProposalS).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const mid = delays.length >> 1;
  const median = delays.length === 0 ? null : delays.length % 2 ? delays[mid] ?? null : ((delays[mid - 1] ?? 0) + (delays[mid] ?? 0)) / 2;
  const opened = outcomes.reduce((a, o) => a + o.incidentsOpened, 0);
  return {
    scenarios: outcomes.length,
    top1: truths.length ? round(truths.filter((t) => t.correct).length / truths.length) : 1,
    false_blame: noneCases.length ? round(noneCases.filter(Boolean).length / noneCases.length) : 0,
    incidents_per_true: truths.length ? round(opened / truths.length) : opened,
    median_onset_to_proposal_s: median,
  };
}
