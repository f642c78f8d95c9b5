import type { Deployment } from '../cloud/ports.js';
import { MINUTE, type EpochMs } from '../core/time.js';
import type { Correlation, RankedDeployment, Suspect } from './incident.js';

export interface CorrelationInput {
  readonly service: string;
  readonly onsetAt: EpochMs;
  readonly lookbackMs: number;
  /** Every deployment seen in the lookback window, of any service's pipeline. */
  readonly deployments: readonly Deployment[];
  /** Pipeline name → the services it deploys. */
  readonly pipelineServices: ReadonlyMap<string, readonly string[]>;
  /** Onsets of anomalies on other services near this one (a shared cause, not this deploy). */
  readonly otherOnsets: readonly { readonly service: string; readonly onsetAt: EpochMs }[];
}

const MIN_SCORE = 0.35;

/** When a deployment's change reached the service: the end of its deploy stage, else its end. */
export function deployedAt(d: Deployment): number | undefined {
  return d.deployEndedAt ?? d.endedAt;
}

/**
 * Ranks every deployment in the lookback window by how well it explains an onset, with reasons in
 * plain words, and names the best as suspect when it is convincing enough. Pure.
 */
export function correlate(input: CorrelationInput): Correlation {
  const ranked: RankedDeployment[] = [];
  for (const d of input.deployments) {
    const r = rank(d, input);
    if (r) ranked.push(r);
  }
  ranked.sort((a, b) => b.score - a.score);
  const best = ranked[0];
  if (!best || best.score < MIN_SCORE) {
    const verdict = ranked.length === 0
      ? `no deployment of ${input.service} in the ${Math.round(input.lookbackMs / MINUTE)} minutes before the onset`
      : 'no deployment explains this: ' + (best?.reasons.at(-1) ?? '');
    return { suspect: null, verdict, candidates: ranked };
  }
  const previous = previousGood(best.deployment, input.deployments);
  const suspect: Suspect = { ...best, ...(previous ? { previousExecutionId: previous.id } : {}) };
  return { suspect, verdict: `deployment ${best.deployment.id} of ${best.deployment.pipeline} is the likely cause`, candidates: ranked };
}

function rank(d: Deployment, input: CorrelationInput): RankedDeployment | null {
  const at = deployedAt(d) ?? d.deployStartedAt;
  if (at === undefined || d.rollbackOf) return null;
  const reasons: string[] = [];
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  const ours = services.includes(input.service);
  let score = ours ? 1 : 0.15;
  reasons.push(ours ? `pipeline ${d.pipeline} deploys ${input.service}` : `pipeline ${d.pipeline} deploys ${services.join(', ') || 'another service'}, not ${input.service}`);
  const lead = input.onsetAt - at;
  if (lead < -MINUTE) {
    return { deployment: d, score: 0, reasons: [...reasons, `the anomaly began ${Math.round(-lead / MINUTE)} min before this deploy finished, so it did not cause it`] };
  }
  if (lead > input.lookbackMs) return null;
  const minutes = Math.max(0, lead) / MINUTE;
  score *= Math.exp(-minutes / 30);
  reasons.push(`its deploy stage finished ${Math.round(minutes)} min before the onset`);
  if (d.status === 'Failed' || d.status === 'Stopped') {
    score *= 1.1;
    reasons.push(`the execution ${d.status.toLowerCase()}`);
  }
  const broken = new Set(input.otherOnsets.filter((o) => Math.abs(o.onsetAt - input.onsetAt) <= 3 * MINUTE && !services.includes(o.service)).map((o) => o.service));
  if (broken.size > 0) {
    score *= 0.3;
    reasons.push(`${[...broken].join(', ')} broke at the same moment, which points at a shared dependency rather than this deploy`);
  }
  if (d.changeSize !== undefined) reasons.push(`it changed ${d.changeSize} lines`);
  return { deployment: d, score: Math.round(score * 1000) / 1000, reasons };
}

/** The last successful execution of the same pipeline before `d`: what a rollback returns to. */
function previousGood(d: Deployment, all: readonly Deployment[]): Deployment | undefined {
  return all
    .filter((x) => x.pipeline === d.pipeline && x.startedAt < d.startedAt && x.status === 'Succeeded' && !x.rollbackOf)
    .sort((a, b) => b.startedAt - a.startedAt)[0];
}
