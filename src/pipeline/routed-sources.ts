/**
 * Read ports that send each question to the account and region it is about (issue 16 item 5). The routes that
 * serve every shard (MCP, `cloudops ask`) hold one set of ports per shard; a metric, log group or pipeline is
 * asked of the shard that watches its service, and a question about an incident of the shard the incident
 * happened in — never of whichever shard happened to be built first.
 */
import type { CompiledPolicy, CompiledShard } from '../policy/compile.js';
import type { DeploymentSource, LogSource, MetricQuery, MetricSeries, MetricSource } from '../cloud/ports.js';
import { incidentPlace, type Incident } from '../incident/incident.js';

export interface ShardSources {
  readonly shard: CompiledShard | null;
  readonly metrics: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
}

export interface ReadSources {
  readonly metrics: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
}

/** Where a service is watched: an account (by name) and region, and the ports that read there. */
export interface SourcePlace {
  readonly account: string;
  readonly region: string;
  readonly sources: ReadSources;
}

export interface RoutedSources extends ReadSources {
  /** Every account and region that watches `service` (several when the policy watches it in more than one). */
  placesOf(service: string): readonly SourcePlace[];
  /** The ports of the shard an incident happened in (its account and region), else of the shard watching its service. */
  forIncident(inc: Pick<Incident, 'account' | 'region' | 'service'>): ReadSources;
}

/** One shard (or none): the ports as they are. Several: routed by service, by log group, by pipeline, by incident. */
export function routedSources(policy: CompiledPolicy, shards: readonly ShardSources[]): RoutedSources {
  const first = shards[0];
  if (!first) throw new Error('routedSources: no shard');
  const placeOf = (s: ShardSources): SourcePlace => ({ account: s.shard?.account.name ?? policy.doc.account.name, region: s.shard?.region ?? policy.doc.account.region, sources: s });
  if (shards.length === 1) return { metrics: first.metrics, logs: first.logs, deployments: first.deployments, forIncident: () => first, placesOf: (svc) => (policy.doc.services[svc] ? [placeOf(first)] : []) };
  const byService = new Map<string, ShardSources>();
  for (const s of shards) for (const svc of s.shard?.services ?? []) if (!byService.has(svc)) byService.set(svc, s);
  const byGroup = new Map<string, ShardSources>();
  const byPipeline = new Map<string, ShardSources>();
  for (const [name, svc] of Object.entries(policy.doc.services)) {
    const s = byService.get(name);
    if (!s) continue;
    for (const g of svc.logGroups) if (!byGroup.has(g)) byGroup.set(g, s);
    for (const p of svc.pipelines) if (!byPipeline.has(p)) byPipeline.set(p, s);
  }
  /** Splits keys by the shard that holds them (unknown keys go to the first shard: its adapter says what is wrong). */
  const split = <T>(items: readonly T[], of: (t: T) => ShardSources | undefined): Map<ShardSources, T[]> => {
    const out = new Map<ShardSources, T[]>();
    for (const it of items) {
      const s = of(it) ?? first;
      const list = out.get(s) ?? [];
      list.push(it);
      out.set(s, list);
    }
    return out;
  };
  const metrics: MetricSource = {
    async fetch(queries, range, signal) {
      const parts = await Promise.all([...split(queries, (q: MetricQuery) => byService.get(q.service))].map(([s, qs]) => s.metrics.fetch(qs, range, signal)));
      const byId = new Map<string, MetricSeries>(parts.flat().map((x) => [x.id, x]));
      return queries.flatMap((q) => byId.get(q.id) ?? []);
    },
  };
  const logs: LogSource = {
    async fetch(query, signal) {
      const parts = await Promise.all([...split(query.groups, (g) => byGroup.get(g))].map(([s, groups]) => s.logs.fetch({ ...query, groups }, signal)));
      return parts.flat().sort((a, b) => a.t - b.t).slice(0, query.limit);
    },
  };
  const deployments: DeploymentSource = {
    async list(pipelines, range, signal) {
      const parts = await Promise.all([...split(pipelines, (p) => byPipeline.get(p))].map(([s, ps]) => s.deployments.list(ps, range, signal)));
      return parts.flat().sort((a, b) => a.startedAt - b.startedAt);
    },
  };
  const home = { name: policy.doc.account.name, region: policy.doc.account.region };
  return {
    metrics,
    logs,
    deployments,
    placesOf: (svc) => shards.filter((s) => s.shard?.services.includes(svc)).map(placeOf),
    forIncident(inc) {
      const place = incidentPlace(inc, home);
      return shards.find((s) => s.shard?.account.name === place.account && s.shard.region === place.region) ?? byService.get(inc.service) ?? first;
    },
  };
}
