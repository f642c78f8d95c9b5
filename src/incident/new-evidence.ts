import type { Deployment } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import { dependencyPath } from './dependency-trouble.js';
import type { RedraftTrigger } from './lifecycle.js';

/** What `newEvidence` looks at: the request, the deployments and incidents seen since, the policy's topology. */
export interface NewEvidenceInput {
  readonly service: string;
  readonly incidentId: string;
  /** When the current request was opened: only what happened after it is new. */
  readonly since: EpochMs;
  /** The deployment the current runbook blames (its later stages are not news). */
  readonly suspectId: string | null;
  readonly deployments: readonly Deployment[];
  /** Pipeline → the services it deploys. */
  readonly pipelineServices: ReadonlyMap<string, readonly string[]>;
  readonly dependsOn: ReadonlyMap<string, readonly string[]>;
  readonly incidents: readonly { readonly id: string; readonly service: string; readonly openedAt: EpochMs }[];
}

/** Whether `a` and `b` are linked by dependsOn in either direction (within three hops). */
function related(a: string, b: string, dependsOn: ReadonlyMap<string, readonly string[]>): boolean {
  return dependencyPath(a, [b], dependsOn) !== null || dependencyPath(b, [a], dependsOn) !== null;
}

/**
 * Evidence that arrived after a request was opened and may change the runbook: a new deployment of the
 * service or of a service it depends on (or one that depends on it), or such a service failing with an
 * incident of its own. The earliest wins. Pure.
 */
export function newEvidence(input: NewEvidenceInput): RedraftTrigger | null {
  const found: { at: number; trigger: RedraftTrigger }[] = [];
  for (const d of input.deployments) {
    if (d.startedAt <= input.since || d.id === input.suspectId) continue;
    const service = (input.pipelineServices.get(d.pipeline) ?? []).find((s) => s === input.service || related(input.service, s, input.dependsOn));
    if (service) found.push({ at: d.startedAt, trigger: { kind: 'new_deployment', deploymentId: d.id, pipeline: d.pipeline, service } });
  }
  for (const o of input.incidents) {
    if (o.id === input.incidentId || o.service === input.service || o.openedAt <= input.since) continue;
    if (related(input.service, o.service, input.dependsOn)) found.push({ at: o.openedAt, trigger: { kind: 'service_failing', service: o.service, incidentId: o.id } });
  }
  found.sort((a, b) => a.at - b.at);
  return found[0]?.trigger ?? null;
}
