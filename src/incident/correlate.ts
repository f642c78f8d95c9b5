import type { Deployment } from '../cloud/ports.js';
import { MINUTE, type EpochMs } from '../core/time.js';
import { freezeAt, type PolicyWindow } from '../mute/mutes.js';
import { dependencyPath, namesService, troubleOf } from './dependency-trouble.js';
import { driftSince, type CorrelationSeries } from './drift.js';
import type { Correlation, LogTemplateEvidence, RankedDeployment, Suspect } from './incident.js';

export { driftSince, type CorrelationSeries } from './drift.js';

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
  /** Log templates of the affected service that are new or grew sharply after the onset (log evidence). */
  readonly logTemplates?: readonly LogTemplateEvidence[];
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
/** A release more than DRIFT_AFTER_MS before the onset, with no drift since, counts this much less. */
const UNEXPLAINED_DELAY_FACTOR = 0.6;
/** The weight of a release of a service this one depends on directly, against one of its own. */
const DEPENDENCY_WEIGHT = 0.5;
/** Each further hop on the call path (checkout → payments → auth) makes it a little less likely. */
const HOP_WEIGHT = 0.8;
/** New log lines naming the dependency make its release as plausible as an own one at the same time. */
const NAMED_DEPENDENCY_FACTOR = 2;
/** An own release gains when a brand-new log template appeared after it that names no dependency. */
const NEW_TEMPLATE_FACTOR = 1.15;
/** An own release loses when the new log lines name a dependency with a troubled release instead. */
const NAMED_ELSEWHERE_FACTOR = 0.6;
/** A rollback restores code that ran before: possible (a schema it no longer understands), less likely. */
const ROLLBACK_WEIGHT = 0.8;
/** How much more suspicious a deploy is when it landed during a deployment freeze of its services. */
const FREEZE_WEIGHT = 1.25;

/** Leads a reason that lowered a deployment's score, so every list of reasons reads right. */
export const AGAINST = 'against it: ';

/**
 * The one reason to show beside a deployment that was not named: why it scored nothing, else the first
 * reason that counted against it, else its last. Pure.
 */
export function decisiveReason(r: RankedDeployment): string {
  if (r.score === 0) return r.reasons.at(-1) ?? '';
  return r.reasons.find((x) => x.startsWith(AGAINST)) ?? r.reasons.at(-1) ?? '';
}

const minutes = (ms: number): string => {
  const m = Math.round(Math.abs(ms) / MINUTE);
  return m >= 120 ? `${(m / 60).toFixed(1)} h` : `${m} min`;
};

/** When a deployment's change reached the service: the end of its deploy stage, else its end. */
export function deployedAt(d: Deployment): number | undefined {
  return d.deployEndedAt ?? d.endedAt;
}

/**
 * When the part of a rollout that could cause an onset went live: the last finished deploy stage at or
 * before the onset (a canary when the onset came during it), else the end of the deploy. Also says
 * whether the rollout was still in progress then, and which stage.
 */
export function liveAt(d: Deployment, onsetAt: number): { at: number | undefined; stage?: string; share?: number; inProgress: boolean } {
  const done = (d.stages ?? []).filter((s) => s.endedAt !== undefined) as { name: string; endedAt: number; share?: number }[];
  const ended = deployedAt(d);
  if (done.length === 0) return { at: ended, inProgress: ended === undefined };
  const before = done.filter((s) => s.endedAt <= onsetAt + SLACK_MS);
  const pick = before[before.length - 1] ?? done[0];
  const last = done[done.length - 1];
  const inProgress = ended === undefined || (pick !== last && (pick?.endedAt ?? 0) <= onsetAt);
  return { at: pick?.endedAt, ...(pick ? { stage: pick.name } : {}), ...(pick?.share !== undefined ? { share: pick.share } : {}), inProgress: inProgress && pick !== undefined };
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
  return `no deployment explains this: the closest candidate, ${best?.deployment.id ?? ''} of ${best?.deployment.pipeline ?? ''}, does not fit (${best ? decisiveReason(best) : ''})`;
}

type Relation = 'own' | 'dependency' | 'unrelated';

function relation(d: Deployment, input: CorrelationInput): Relation {
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  if (services.includes(input.service)) return 'own';
  return dependencyPath(input.service, services, input.dependsOn) ? 'dependency' : 'unrelated';
}

function rank(d: Deployment, input: CorrelationInput): RankedDeployment | null {
  const live = liveAt(d, input.onsetAt);
  const ended = live.at;
  const at = ended ?? d.deployStartedAt;
  if (at === undefined) return null;
  const lead = input.onsetAt - at;
  if (lead > input.lookbackMs) return null;
  const services = input.pipelineServices.get(d.pipeline) ?? [];
  const rel = relation(d, input);
  const reasons: string[] = [];
  const zero = (why: string): RankedDeployment => ({ deployment: d, score: 0, reasons: [...reasons, why] });
  const path = rel === 'dependency' ? (dependencyPath(input.service, services, input.dependsOn) ?? []) : [];

  if (rel === 'own') reasons.push(`pipeline ${d.pipeline} deploys ${input.service}`);
  else if (rel === 'dependency') {
    reasons.push(path.length > 2 ? `pipeline ${d.pipeline} deploys ${services.join(', ')}, which ${input.service} depends on through ${path.slice(1, -1).join(' → ')}` : `pipeline ${d.pipeline} deploys ${services.join(', ')}, which ${input.service} depends on`);
  } else return zero(`pipeline ${d.pipeline} deploys ${services.join(', ') || 'another service'}, which ${input.service} does not depend on`);

  if (lead < -SLACK_MS) {
    return zero(`the anomaly began ${minutes(lead)} before this deploy ${ended === undefined ? 'started' : 'finished'}, so it did not cause it`);
  }
  const rolledBack = input.deployments.find((r) => r.rollbackOf?.split(',').includes(d.id) && (deployedAt(r) ?? Infinity) < input.onsetAt - SLACK_MS);
  if (rolledBack) return zero(`it had already been rolled back (${rolledBack.id}) ${minutes(input.onsetAt - (deployedAt(rolledBack) ?? 0))} before the onset`);

  let score = rel === 'own' ? 1 : DEPENDENCY_WEIGHT * HOP_WEIGHT ** Math.max(0, path.length - 2);
  if (rel === 'dependency') {
    // A dependency's release explains this only if the dependency (or a service on the way) is in trouble too.
    const trouble = path.slice(1).map((svc) => troubleOf(svc, input)).find((t) => t !== null);
    if (!trouble) return zero(`${path.slice(1).join(' and ')} showed no trouble of ${path.length > 2 ? 'their' : 'its'} own (no anomaly near the onset, no new log lines naming ${path.length > 2 ? 'them' : 'it'})`);
    reasons.push(trouble.reason);
    if (trouble.named) score *= NAMED_DEPENDENCY_FACTOR;
  }
  if (d.rollbackOf) {
    score *= ROLLBACK_WEIGHT;
    reasons.push(`it is a rollback (of ${d.rollbackOf}): it put back code that ran before, which can still break what changed since`);
  }
  const gap = Math.max(0, lead);
  let timing = Math.exp(-gap / DECAY_MS);
  if (ended === undefined) {
    timing *= 0.5;
    reasons.push(`its deploy stage was still running (started ${minutes(gap)} before the onset)`);
  } else if (live.inProgress) {
    reasons.push(`its ${live.stage ?? 'first'} stage${live.share !== undefined ? ` (${Math.round(live.share * 100)} % of traffic)` : ''} finished ${gap < MINUTE ? 'at the onset' : `${minutes(gap)} before the onset`}; the rollout was still in progress, so that part was already live`);
  } else {
    reasons.push(gap < MINUTE ? 'its deploy stage finished at the onset' : `its deploy stage finished ${minutes(gap)} before the onset`);
  }
  if (rel === 'own' && gap > DRIFT_AFTER_MS) {
    const drift = driftSince(input.series ?? [], at, input.onsetAt);
    if (drift) {
      timing = Math.max(timing, 0.8);
      reasons.push(drift);
    } else {
      // Without a drift that began at it, an effect this late is unusual for a release: it counts less.
      timing *= UNEXPLAINED_DELAY_FACTOR;
      reasons.push(`${AGAINST}that is long before the onset, and no metric of ${input.service} started drifting when it landed`);
    }
  }
  score *= timing;
  if (rel === 'own') score *= ownLogFactor(input, reasons);

  const freeze = input.freezes ? services.map((svc) => freezeAt({ freezes: input.freezes ?? [] }, svc, at)).find((f) => f !== null) : undefined;
  if (freeze) {
    score *= FREEZE_WEIGHT;
    reasons.push(`it was deployed during the deployment freeze ${freeze.id.slice('freeze:'.length)} (${freeze.reason}), when no release was expected`);
  }

  if (d.status === 'Failed' || d.status === 'Stopped') reasons.push(`the execution ${d.status.toLowerCase()} after its deploy stage ran, so part of the change may be live`);

  const shared = unexplainedBreaks(d, input);
  if (shared.length > 0) {
    score *= 0.15;
    reasons.push(`${AGAINST}${shared.join(', ')} broke at the same moment without a release of their own, which points at a shared dependency rather than this deploy`);
  }
  if (d.changeSize !== undefined) {
    score *= 0.85 + 0.15 * Math.min(1, Math.log10(1 + Math.max(0, d.changeSize)) / 3);
    reasons.push(`it changed ${d.changeSize} line${d.changeSize === 1 ? '' : 's'}`);
  }
  return { deployment: d, score: Math.round(score * 1000) / 1000, reasons };
}

/**
 * What the affected service's new log lines say about its own release: lines naming a dependency whose
 * release is in the window point away from it; a brand-new template naming no dependency points at it.
 */
function ownLogFactor(input: CorrelationInput, reasons: string[]): number {
  const templates = input.logTemplates ?? [];
  if (templates.length === 0) return 1;
  const released = new Set(
    input.deployments
      .filter((x) => relation(x, input) === 'dependency' && (deployedAt(x) ?? x.deployStartedAt ?? Infinity) <= input.onsetAt + SLACK_MS)
      .flatMap((x) => input.pipelineServices.get(x.pipeline) ?? []),
  );
  const deps = [...released].flatMap((svc) => (dependencyPath(input.service, [svc], input.dependsOn) ?? []).slice(1));
  const elsewhere = templates.find((t) => deps.some((svc) => namesService(t, svc)));
  if (elsewhere) {
    const svc = deps.find((x) => namesService(elsewhere, x)) ?? '';
    reasons.push(`${AGAINST}the new log lines name ${svc}, which released too, rather than ${input.service}'s own code: "${elsewhere.template.slice(0, 100)}"`);
    return NAMED_ELSEWHERE_FACTOR;
  }
  const fresh = templates.find((t) => t.isNew);
  if (fresh) {
    reasons.push(`a new log template appeared after it landed: "${fresh.template.slice(0, 100)}" (${fresh.onsetCount} lines)`);
    return NEW_TEMPLATE_FACTOR;
  }
  return 1;
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
    if (dependencyPath(o.service, services, input.dependsOn)) continue;
    const ownRelease = input.deployments.some((x) => {
      const t = deployedAt(x);
      return t !== undefined && !x.rollbackOf && (input.pipelineServices.get(x.pipeline) ?? []).includes(o.service) && t <= o.onsetAt + SLACK_MS && t >= o.onsetAt - OWN_RELEASE_MS;
    });
    if (!ownRelease) out.add(o.service);
  }
  return [...out].sort();
}

/** The last successful execution of the same pipeline before `d`: what a rollback returns to. */
export function previousGood(d: Deployment, all: readonly Deployment[]): Deployment | undefined {
  return all
    .filter((x) => x.pipeline === d.pipeline && x.startedAt < d.startedAt && x.status === 'Succeeded' && !x.rollbackOf)
    .sort((a, b) => b.startedAt - a.startedAt)[0];
}
