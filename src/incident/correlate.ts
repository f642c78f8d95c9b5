import type { Deployment, MetricPoint } from '../cloud/ports.js';
import { MINUTE, type EpochMs } from '../core/time.js';
import { freezeAt, type PolicyWindow } from '../mute/mutes.js';
import type { Correlation, RankedDeployment, Suspect } from './incident.js';

/** One of the affected service's metrics before the onset (drift evidence for slow regressions). */
export interface CorrelationSeries {
  readonly metricName: string;
  /** Which way the metric goes wrong (the policy's detector direction). */
  readonly direction: 'up' | 'down' | 'both';
  readonly points: readonly MetricPoint[];
}

export interface CorrelationInput {
  readonly service: string;
  readonly onsetAt: EpochMs;
  readonly lookbackMs: number;
  /** Every deployment seen in the lookback window, of any service's pipeline. */
  readonly deployments: readonly Deployment[];
  /** Pipeline name → the services it deploys. */
  readonly pipelineServices: ReadonlyMap<string, readonly string[]>;
  /** Service → the services it calls (policy `dependsOn`): their releases can break it. */
  readonly dependsOn?: ReadonlyMap<string, readonly string[]>;
  /** Onsets of anomalies on other services near this one (a shared cause, not this deploy). */
  readonly otherOnsets: readonly { readonly service: string; readonly onsetAt: EpochMs }[];
  /** The affected service's metrics over the lookback window, when known. */
  readonly series?: readonly CorrelationSeries[];
  /** Deployment freezes (policy `freezes`): a deploy that lands inside one was not expected. */
  readonly freezes?: readonly PolicyWindow[];
}

/** Below this, no deployment is convincing enough to be named. */
export const MIN_SCORE = 0.3;
/** Onsets are estimated per datapoint and deploy ends per poll: this much "before" is still "at". */
const SLACK_MS = 2 * MINUTE;
/** How fast the suspicion of a deployment fades with the time between it and the onset. */
const DECAY_MS = 30 * MINUTE;
/** Other services breaking within this of the onset broke "at the same moment". */
const SAME_MOMENT_MS = 3 * MINUTE;
/** Another service's break is explained by its own release when one finished this long before it. */
const OWN_RELEASE_MS = 15 * MINUTE;
/** A deployment this long before the onset counts only with evidence of a drift that began at it. */
const DRIFT_AFTER_MS = 20 * MINUTE;
/** The weight of a release of a service this one depends on, against one of its own. */
const DEPENDENCY_WEIGHT = 0.5;
/** How much more suspicious a deploy is when it landed during a deployment freeze of its services. */
const FREEZE_WEIGHT = 1.25;

const minutes = (ms: number): string => {
  const m = Math.round(Math.abs(ms) / MINUTE);
  return m >= 120 ? `${(m / 60).toFixed(1)} h` : `${m} min`;
};

/** When a deployment's change reached the service: the end of its deploy stage, else its end. */
export function deployedAt(d: Deployment): number | undefined {
  return d.deployEndedAt ?? d.endedAt;
}

/**
 * Ranks every deployment in the lookback window by how well it explains an onset, with reasons in
 * plain words, and names the best as suspect when it is convincing enough; otherwise says why no
 * deployment explains it. Pure.
 */
export function correlate(input: CorrelationInput): Correlation {
  const ranked: RankedDeployment[] = [];
  for (const d of input.deployments) {
    const r = rank(d, input);
    if (r) ranked.push(r);
  }
  ranked.sort((a, b) => b.score - a.score || (deployedAt(b.deployment) ?? 0) - (deployedAt(a.deployment) ?? 0));
  const best = ranked[0];
  if (!best || best.score < MIN_SCORE) return { suspect: null, verdict: noSuspectVerdict(input, ranked), candidates: ranked };
  const previous = previousGood(best.deployment, input.deployments);
  const suspect: Suspect = { ...best, ...(previous ? { previousExecutionId: previous.id } : {}) };
  const runnerUp = ranked[1];
  const close = runnerUp && runnerUp.score >= MIN_SCORE && runnerUp.score > 0.8 * best.score ? `; ${runnerUp.deployment.id} of ${runnerUp.deployment.pipeline} is a close second` : '';
  return { suspect, verdict: `deployment ${best.deployment.id} of ${best.deployment.pipeline} is the likely cause (score ${best.score})${close}`, candidates: ranked };
}

function noSuspectVerdict(input: CorrelationInput, ranked: readonly RankedDeployment[]): string {
  const related = ranked.filter((r) => relation(r.deployment, input) !== 'unrelated');
  if (related.length === 0) {
    return `no deployment explains this: nothing deployed ${input.service} or a service it depends on in the ${minutes(input.lookbackMs)} before the onset`;
  }
  const best = related[0];
  return `no deployment explains this: the closest candidate, ${best?.deployment.id ?? ''} of ${best?.deployment.pipeline ?? ''}, does not fit (${best?.reasons.at(-1) ?? ''})`;
}

type Relation = 'own' | 'dependency' | 'unrelated';

function relation(d: Deployment, input: CorrelationInput): Relation {
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  if (services.includes(input.service)) return 'own';
  const deps = input.dependsOn?.get(input.service) ?? [];
  return services.some((s) => deps.includes(s)) ? 'dependency' : 'unrelated';
}

function rank(d: Deployment, input: CorrelationInput): RankedDeployment | null {
  const ended = deployedAt(d);
  const at = ended ?? d.deployStartedAt;
  if (at === undefined) return null;
  const lead = input.onsetAt - at;
  if (lead > input.lookbackMs) return null;
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  const rel = relation(d, input);
  const reasons: string[] = [];
  const zero = (why: string): RankedDeployment => ({ deployment: d, score: 0, reasons: [...reasons, why] });

  if (rel === 'own') reasons.push(`pipeline ${d.pipeline} deploys ${input.service}`);
  else if (rel === 'dependency') reasons.push(`pipeline ${d.pipeline} deploys ${services.join(', ')}, which ${input.service} depends on`);
  else return zero(`pipeline ${d.pipeline} deploys ${services.join(', ') || 'another service'}, which ${input.service} does not depend on`);

  if (d.rollbackOf) return zero(`it is a rollback (of ${d.rollbackOf}), which restores code that ran before`);
  if (lead < -SLACK_MS) {
    return zero(`the anomaly began ${minutes(lead)} before this deploy ${ended === undefined ? 'started' : 'finished'}, so it did not cause it`);
  }
  const rolledBack = input.deployments.find((r) => r.rollbackOf?.split(',').includes(d.id) && (deployedAt(r) ?? Infinity) < input.onsetAt - SLACK_MS);
  if (rolledBack) return zero(`it had already been rolled back (${rolledBack.id}) ${minutes(input.onsetAt - (deployedAt(rolledBack) ?? 0))} before the onset`);

  let score = rel === 'own' ? 1 : DEPENDENCY_WEIGHT;
  const gap = Math.max(0, lead);
  let timing = Math.exp(-gap / DECAY_MS);
  if (ended === undefined) {
    timing *= 0.5;
    reasons.push(`its deploy stage was still running (started ${minutes(gap)} before the onset)`);
  } else {
    reasons.push(gap < MINUTE ? 'its deploy stage finished at the onset' : `its deploy stage finished ${minutes(gap)} before the onset`);
  }
  if (rel === 'own' && gap > DRIFT_AFTER_MS) {
    const drift = driftSince(input.series ?? [], at, input.onsetAt);
    if (drift) {
      timing = Math.max(timing, 0.8);
      reasons.push(drift);
    } else {
      reasons.push(`that is long before the onset, and no metric of ${input.service} started drifting when it landed`);
    }
  }
  score *= timing;

  const freeze = input.freezes ? services.map((svc) => freezeAt({ freezes: input.freezes ?? [] }, svc, at)).find((f) => f !== null) : undefined;
  if (freeze) {
    score *= FREEZE_WEIGHT;
    reasons.push(`it was deployed during the deployment freeze ${freeze.id.slice('freeze:'.length)} (${freeze.reason}), when no release was expected`);
  }

  if (d.status === 'Failed' || d.status === 'Stopped') reasons.push(`the execution ${d.status.toLowerCase()} after its deploy stage ran, so part of the change may be live`);

  const shared = unexplainedBreaks(d, input);
  if (shared.length > 0) {
    score *= 0.15;
    reasons.push(`${shared.join(', ')} broke at the same moment without a release of their own, which points at a shared dependency rather than this deploy`);
  }
  if (d.changeSize !== undefined) {
    score *= 0.85 + 0.15 * Math.min(1, Math.log10(1 + Math.max(0, d.changeSize)) / 3);
    reasons.push(`it changed ${d.changeSize} line${d.changeSize === 1 ? '' : 's'}`);
  }
  return { deployment: d, score: Math.round(score * 1000) / 1000, reasons };
}

/**
 * Other services that broke at the same moment and that neither this deployment nor a release of
 * their own explains: the signature of a shared dependency (a region, a database, the network).
 */
function unexplainedBreaks(d: Deployment, input: CorrelationInput): string[] {
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  const out = new Set<string>();
  for (const o of input.otherOnsets) {
    if (o.service === input.service || Math.abs(o.onsetAt - input.onsetAt) > SAME_MOMENT_MS) continue;
    if (services.includes(o.service)) continue;
    if ((input.dependsOn?.get(o.service) ?? []).some((s) => services.includes(s))) continue;
    const ownRelease = input.deployments.some((x) => {
      const t = deployedAt(x);
      return t !== undefined && !x.rollbackOf && (input.pipelineServices.get(x.pipeline) ?? []).includes(o.service) && t <= o.onsetAt + SLACK_MS && t >= o.onsetAt - OWN_RELEASE_MS;
    });
    if (!ownRelease) out.add(o.service);
  }
  return [...out].sort();
}

/** Spearman rank correlation of values against time (ties are rare in metric data and ignored). */
function trend(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(n);
  order.forEach(([, i], r) => (rank[i] = r));
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += ((rank[i] ?? 0) - i) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/**
 * Evidence that a metric began a steady drift when a deployment landed (a leak, a growing queue):
 * flat in the hour before `at`, a consistent trend in the bad direction from `at` to the onset, and
 * far from the old level by the onset. Returns the reason in plain words, or null.
 */
export function driftSince(series: readonly CorrelationSeries[], at: number, onsetAt: number): string | null {
  for (const s of series) {
    const pre = s.points.filter((p) => p.t >= at - 60 * MINUTE && p.t < at).map((p) => p.v);
    const post = s.points.filter((p) => p.t >= at && p.t < onsetAt).map((p) => p.v);
    if (pre.length < 15 || post.length < 15) continue;
    const level = median(pre);
    const spread = median(pre.map((v) => Math.abs(v - level))) * 1.4826;
    const sigma = Math.max(spread, 1e-9 + Math.abs(level) * 0.01);
    const end = median(post.slice(-Math.min(10, post.length)));
    const start = median(post.slice(0, Math.min(10, post.length)));
    const rise = (end - level) / sigma;
    const rho = trend(post);
    const rhoPre = trend(pre);
    const dirOk = s.direction === 'both' || (s.direction === 'up' ? rise > 0 : rise < 0);
    const continuous = Math.abs(start - level) / sigma < Math.abs(rise) / 3;
    if (dirOk && Math.sign(rho) === Math.sign(rise) && Math.abs(rho) >= 0.6 && Math.abs(rhoPre) <= 0.35 && Math.abs(rise) >= 6 && continuous) {
      const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
      return `${s.metricName} was flat before this deploy and has ${rise > 0 ? 'climbed' : 'fallen'} steadily since it landed (${fmt(level)} → ${fmt(end)}), so it surfaced ${minutes(onsetAt - at)} later`;
    }
  }
  return null;
}

/** The last successful execution of the same pipeline before `d`: what a rollback returns to. */
export function previousGood(d: Deployment, all: readonly Deployment[]): Deployment | undefined {
  return all
    .filter((x) => x.pipeline === d.pipeline && x.startedAt < d.startedAt && x.status === 'Succeeded' && !x.rollbackOf)
    .sort((a, b) => b.startedAt - a.startedAt)[0];
}
