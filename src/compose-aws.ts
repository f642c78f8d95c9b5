import { join } from 'node:path';
import type { Logger } from 'pino';
import { AdaptiveMetricSource } from './cloud/adaptive-metric-source.js';
import { createAwsPorts, type AwsPorts } from './cloud/aws/index.js';
import { BandRoutingMetricSource } from './cloud/aws/band-routing-source.js';
import { SsmKillSwitch } from './cloud/aws/kill-switch.js';
import { DEFAULT_POLL_SETTINGS, compilePollSettings } from './cloud/poll-plan.js';
import type { Notifier } from './cloud/ports.js';
import { SystemClock, type Clock } from './core/clock.js';
import { OPEN_STATES } from './incident/lifecycle.js';
import type { PipelineDeps } from './pipeline/context.js';
import { detectorFor } from './pipeline/detector-factory.js';
import type { CompiledPolicy } from './policy/compile.js';
import { loadCatalog } from './runbook/catalog.js';
import { TemplatePlanner } from './runbook/template-planner.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface AwsOptions {
  readonly storePath: string;
  readonly logger: Logger;
  readonly notifiers: readonly Notifier[];
  readonly publicUrl: string;
  /** Endpoint override for every AWS service (moto, the CodePipeline stub). Default: AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** Tests only: never gzip request bodies (moto cannot read them). */
  readonly disableRequestCompression?: boolean;
  readonly clock?: Clock;
}

export interface AwsWorld {
  readonly deps: PipelineDeps;
  readonly ports: AwsPorts;
}

/**
 * Builds the pipeline's ports on real AWS: every SDK client once (region from the policy, adaptive
 * retries, timeouts, credentials from the default chain — the ECS task role in production), the
 * adapters over them, and adaptive polling in front of GetMetricData.
 */
export function buildAwsWorld(policy: CompiledPolicy, opts: AwsOptions): AwsWorld {
  const doc = policy.doc;
  if (doc.store.kind !== 'sqlite') throw new Error('store.kind: dynamodb is not implemented yet; use store.kind: sqlite on a mounted volume');
  const endpoint = opts.endpoint ?? process.env['AWS_ENDPOINT_URL'];
  const ports = createAwsPorts({
    region: doc.account.region,
    ...(endpoint ? { endpoint } : {}),
    ...(opts.disableRequestCompression ? { disableRequestCompression: true } : {}),
    snsTopicArn: doc.notify.sns?.topicArn,
  });
  const clock = opts.clock ?? new SystemClock();
  const store: Store = new SqliteStore(opts.storePath || join('.data', 'cloudops.db'));
  const poll = compilePollSettings({ ...DEFAULT_POLL_SETTINGS, hotEveryMs: policy.pollEveryMs, quietEveryMs: Math.max(policy.pollEveryMs, Math.ceil(DEFAULT_POLL_SETTINGS.quietEveryMs / policy.pollEveryMs) * policy.pollEveryMs), initialLookbackMs: policy.windowMs, maxLookbackMs: Math.max(policy.windowMs, DEFAULT_POLL_SETTINGS.maxLookbackMs) });
  // Metrics judged by CloudWatch's anomaly band are read with the band (5 - 4·sensitivity standard deviations).
  const widths = new Map(policy.metrics.filter((m) => m.detector.kind === 'cloudwatchBand').map((m) => [m.id, Math.round((5 - 4 * m.detector.sensitivity) * 10) / 10]));
  const metrics = widths.size > 0 ? new BandRoutingMetricSource(ports.clients.cloudwatch, (q) => widths.get(q.id) ?? null) : ports.metrics;
  const observeMetrics = new AdaptiveMetricSource({
    inner: metrics,
    store,
    clock,
    settings: poll,
    suspicious: () => suspiciousMetrics(store, policy),
  });
  const killSwitch = doc.safety.killSwitchParameter ? new SsmKillSwitch(ports.clients.ssm, doc.safety.killSwitchParameter) : null;
  const deps: PipelineDeps = {
    policy,
    clock,
    store,
    metrics: ports.metrics,
    observeMetrics,
    logs: ports.logs,
    deployments: ports.deployments,
    actions: ports.actions,
    planner: new TemplatePlanner(loadCatalog(policy.runbookDir, doc.actions), doc.actions),
    notifiers: ports.notifier ? [...opts.notifiers, ports.notifier] : opts.notifiers,
    logger: opts.logger,
    detectorFor,
    killSwitch: async (signal) => doc.safety.killSwitch || (killSwitch ? await killSwitch.isOn(signal) : false),
    publicUrl: opts.publicUrl,
  };
  return { deps, ports };
}

/** Metrics polled every cycle: those whose newest point was anomalous, and those of open incidents. */
async function suspiciousMetrics(store: Store, policy: CompiledPolicy): Promise<string[]> {
  const cursors = await store.getValues<{ run?: number }>(policy.metrics.map((m) => `detector:${m.id}`));
  const ids = new Set<string>();
  for (const [key, c] of cursors) if ((c.run ?? 0) > 0) ids.add(key.slice('detector:'.length));
  for (const inc of await store.listIncidents({ states: [...OPEN_STATES], limit: 500 })) for (const s of inc.signals) ids.add(s.metricId);
  return [...ids];
}
