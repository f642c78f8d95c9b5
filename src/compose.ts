import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { createAgentPlanner } from './agent/agent-planner.js';
import { compileAgentPolicy } from './agent/agent-policy.js';
import { createBedrockClient } from './agent/bedrock-client.js';
import { BedrockModel } from './agent/model.js';
import type { Logger } from 'pino';
import { AdaptiveMetricSource } from './cloud/adaptive-metric-source.js';
import { createAwsPorts, createShardPorts, type AwsPorts, type ShardPorts } from './cloud/aws/index.js';
import { BandRoutingMetricSource } from './cloud/aws/band-routing-source.js';
import { killSwitchCheck, parseKillSwitchEnv } from './execute/kill-switch.js';
import { SsmKillSwitch } from './cloud/aws/kill-switch.js';
import { DEFAULT_POLL_SETTINGS, compilePollSettings } from './cloud/poll-plan.js';
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from './cloud/ports.js';
import { SimCloud, SimStateFile, loadScenario } from './cloud/sim/index.js';
import { SystemClock, VirtualClock, type Clock } from './core/clock.js';
import { epochMs, parseDuration } from './core/time.js';
import { OPEN_STATES } from './incident/lifecycle.js';
import { openGate, type PipelineDeps, type StageGate } from './pipeline/context.js';
import { detectorFor } from './pipeline/detector-factory.js';
import { noMetrics, type PipelineMetrics } from './pipeline/metrics.js';
import { RunState } from './pipeline/run-state.js';
import { pipelineSettings } from './pipeline/settings.js';
import type { CompiledPolicy, CompiledShard } from './policy/compile.js';
import { shardPolicy } from './pipeline/shard-policy.js';
import { shardStore } from './pipeline/shard-store.js';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { loadCatalog } from './runbook/catalog.js';
import type { Planner } from './runbook/planner.js';
import { TemplatePlanner } from './runbook/template-planner.js';
import { DynamoStore } from './store/dynamo-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import { LEADER_LEASE, type LeaseFence, type LeaseRecord } from './store/lease.js';
import type { Store } from './store/store.js';

/**
 * The one place the world is chosen: the embedded simulated cloud or real AWS, by `cloud.kind`.
 * Everything else (store, notifiers, planner, lifecycle) is handed in, built once by the caller.
 */

/** What notifiers are built from: the store and clock exist before any notifier does. */
export interface NotifierInputs {
  readonly store: Store;
  readonly clock: Clock;
}

export interface WorldOptions {
  /** The store, opened once by the composition root (`openStore`) and handed to everything. */
  readonly store: Store;
  readonly logger: Logger;
  /** Builds the notifiers from the store and clock (so none needs attaching later). */
  readonly notifiers: (inputs: NotifierInputs) => readonly Notifier[];
  readonly publicUrl: string;
  /** Where the simulated cloud keeps its state (virtual clock anchor, actions taken). */
  readonly dataDir: string;
  /** Overrides the world's clock (tests pass a ManualClock). */
  readonly clock?: Clock;
  /** The daemon's lifecycle; a running one by default. */
  readonly run?: RunState;
  /** The wrapper point before stage work and steps: the leader lease goes here. No-op by default. */
  readonly gate?: StageGate;
  /** The leader lease's fencing token, carried by every step claim. Absent: claims are not fenced. */
  readonly fence?: () => LeaseFence;
  readonly pipelineMetrics?: PipelineMetrics;
  /** Drafts runbooks; the template planner by default (the agent plugs in here). */
  readonly planner?: Planner;
  /** AWS only: endpoint override for every service (moto). Default: AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** AWS only, tests: never gzip request bodies (moto cannot read them). */
  readonly disableRequestCompression?: boolean;
  /** The kill switch's environment override (CLOUDOPS_KILL_SWITCH), read by the composition root. */
  readonly killSwitchEnv?: string | undefined;
  /**
   * The shard this world watches (a policy with `accounts`): its services and metrics only, its region,
   * its account's scenario (sim) and its view of the store. Absent or a policy without `accounts`: the whole policy.
   */
  readonly shard?: CompiledShard;
  /** AWS only: the shard account's credentials (an assumed role); absent: the default chain. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** AWS only: the shard's clients and adapters, built by the caller (`createShardPorts`, which owns them). */
  readonly awsPorts?: AwsPorts;
}

export interface World {
  readonly deps: PipelineDeps;
  /** The simulated cloud, when the world is simulated. */
  readonly sim: SimCloud | null;
  /** The AWS ports and clients, when the world is AWS. */
  readonly aws: AwsPorts | null;
  /** Releases what the world holds (SDK sockets). The store is the caller's. */
  release(): void;
}

interface Ports {
  readonly clock: Clock;
  readonly metrics: MetricSource;
  readonly observeMetrics?: MetricSource;
  readonly logs: LogSource;
  readonly deployments: DeploymentSource;
  readonly actions: ActionTarget;
  readonly notifiers: readonly Notifier[];
  readonly killSwitch: (signal: AbortSignal) => Promise<boolean>;
}

/**
 * Opens the policy's store (the one store of a process): the SQLite file at `path`, or the DynamoDB table
 * the policy names (endpoint override: AWS_ENDPOINT_URL, as for the other clients).
 */
export function openStore(policy: CompiledPolicy, path: string): SqliteStore | DynamoStore {
  const s = policy.doc.store;
  const endedRetentionMs = parseDuration(s.retention);
  const auditRetentionMs = s.auditRetention !== undefined ? parseDuration(s.auditRetention) : null;
  if (s.kind === 'sqlite') return new SqliteStore(path, { endedRetentionMs, auditRetentionMs });
  return new DynamoStore({ table: s.table, aws: { region: s.region ?? policy.doc.account.region, endpoint: process.env['AWS_ENDPOINT_URL'] }, endedIncidentRetentionMs: endedRetentionMs, auditRetentionMs });
}

/** Builds the pipeline's ports for the policy's world and the dependencies around them. */
export function buildWorld(whole: CompiledPolicy, given: WorldOptions): World {
  const shard = given.shard && given.shard.lease !== null ? given.shard : null;
  const policy = shard ? shardPolicy(whole, shard) : whole;
  const opts: WorldOptions = shard ? { ...given, store: shardStore(given.store, shard, whole.doc.account) } : given;
  let sim: SimCloud | null = null;
  let aws: AwsPorts | null = null;
  let ports: Ports;
  if (policy.doc.cloud.kind === 'sim') {
    const built = simPorts(policy, opts);
    sim = built.sim;
    ports = built.ports;
  } else {
    const built = awsPorts(policy, opts);
    aws = built.aws;
    ports = built.ports;
  }
  const templates = loadCatalog(policy.runbookDir, policy.doc.actions);
  const template = new TemplatePlanner(templates, policy.doc.actions);
  // The Bedrock agent drafts when the policy has an enabled `agent` section; the templates stay its fallback.
  const agentDoc = policy.doc.agent;
  let bedrock: BedrockRuntimeClient | null = null;
  let planner: Planner = opts.planner ?? template;
  if (!opts.planner && agentDoc?.enabled) {
    const endpoint = agentDoc.endpoint ?? opts.endpoint ?? process.env['AWS_ENDPOINT_URL'];
    bedrock = createBedrockClient({ region: agentDoc.region ?? policy.doc.account.region, ...(endpoint ? { endpoint } : {}) });
    planner = createAgentPlanner({
      settings: compileAgentPolicy(agentDoc),
      policy,
      model: new BedrockModel(bedrock),
      store: opts.store,
      clock: ports.clock,
      metrics: ports.metrics,
      logs: ports.logs,
      deployments: ports.deployments,
      templates,
      fallback: template,
      logger: opts.logger,
    });
  }
  const deps: PipelineDeps = {
    policy,
    settings: pipelineSettings(policy),
    clock: ports.clock,
    store: opts.store,
    metrics: ports.metrics,
    ...(ports.observeMetrics ? { observeMetrics: ports.observeMetrics } : {}),
    logs: ports.logs,
    deployments: ports.deployments,
    actions: ports.actions,
    planner,
    fallbackPlanner: template,
    notifiers: ports.notifiers,
    logger: opts.logger,
    detectorFor,
    killSwitch: ports.killSwitch,
    publicUrl: opts.publicUrl,
    gate: opts.gate ?? openGate,
    ...(opts.fence ? { fence: opts.fence } : {}),
    run: opts.run ?? new RunState('running'),
    pipelineMetrics: opts.pipelineMetrics ?? noMetrics,
  };
  return {
    deps,
    sim,
    aws,
    release: () => {
      if (!opts.awsPorts) aws?.clients.destroy();
      bedrock?.destroy();
    },
  };
}

/**
 * The embedded simulated cloud. Its state (virtual clock anchor, actions taken) lives in the data dir
 * beside the store, so a restarted daemon continues the same timeline.
 */
function simPorts(policy: CompiledPolicy, opts: WorldOptions): { sim: SimCloud; ports: Ports } {
  if (policy.doc.cloud.kind !== 'sim' || !policy.scenarioFile) throw new Error('the simulated world needs a policy with cloud.kind: sim');
  // Each shard is its own simulated account and region: its scenario (the account's, or the policy's) and state file.
  const shard = policy.shards.length === 1 && policy.shards[0]?.lease ? policy.shards[0] : null;
  const scenario = loadScenario(shard?.account.scenarioFile ?? policy.scenarioFile);
  const state = new SimStateFile(join(opts.dataDir, shard ? `sim-state-${shard.account.name}-${shard.region}.json` : 'sim-state.json'));
  let clock = opts.clock;
  if (!clock) {
    // Wall time anchors virtual time; persisted so a restart continues where the timeline was.
    const wallStart = state.data.wallStart ?? Date.now();
    state.data.wallStart = wallStart;
    state.save();
    clock = new VirtualClock(epochMs(Date.parse(scenario.start)), policy.doc.cloud.speed, () => Date.now(), wallStart);
  }
  const sim = new SimCloud(scenario, clock, state);
  const notifiers = opts.notifiers({ store: opts.store, clock });
  return {
    sim,
    ports: { clock, metrics: sim, logs: sim.logSource, deployments: sim, actions: sim, notifiers, killSwitch: killSwitchCheck({ policyFlag: policy.doc.safety.killSwitch, envOverride: parseKillSwitchEnv(opts.killSwitchEnv), parameter: null }) },
  };
}

/**
 * Real AWS: every SDK client once (region from the policy, adaptive retries, timeouts, credentials
 * from the default chain — the ECS task role in production), the adapters over them, and adaptive
 * polling in front of GetMetricData.
 */
function awsPorts(policy: CompiledPolicy, opts: WorldOptions): { aws: AwsPorts; ports: Ports } {
  const doc = policy.doc;
  const endpoint = opts.endpoint ?? process.env['AWS_ENDPOINT_URL'];
  const shard = policy.shards.length === 1 && policy.shards[0]?.lease ? policy.shards[0] : null;
  const aws = opts.awsPorts ?? createAwsPorts({
    region: shard?.region ?? doc.account.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(opts.disableRequestCompression ? { disableRequestCompression: true } : {}),
    snsTopicArn: doc.notify.sns?.topicArn,
  });
  const clock = opts.clock ?? new SystemClock();
  const store = opts.store;
  const poll = compilePollSettings({ ...DEFAULT_POLL_SETTINGS, hotEveryMs: policy.pollEveryMs, quietEveryMs: Math.max(policy.pollEveryMs, Math.ceil(DEFAULT_POLL_SETTINGS.quietEveryMs / policy.pollEveryMs) * policy.pollEveryMs), initialLookbackMs: policy.windowMs, maxLookbackMs: Math.max(policy.windowMs, DEFAULT_POLL_SETTINGS.maxLookbackMs) });
  // Metrics judged by CloudWatch's anomaly band are read with the band (5 - 4·sensitivity standard deviations).
  const widths = new Map(policy.metrics.filter((m) => m.detector.kind === 'cloudwatchBand').map((m) => [m.id, Math.round((5 - 4 * m.detector.sensitivity) * 10) / 10]));
  const metrics = widths.size > 0 ? new BandRoutingMetricSource(aws.clients.cloudwatch, (q) => widths.get(q.id) ?? null) : aws.metrics;
  const observeMetrics = new AdaptiveMetricSource({ inner: metrics, store, clock, settings: poll, suspicious: () => suspiciousMetrics(store, policy) });
  const killSwitch = doc.safety.killSwitchParameter ? new SsmKillSwitch(aws.clients.ssm, doc.safety.killSwitchParameter) : null;
  const given = opts.notifiers({ store, clock });
  return {
    aws,
    ports: {
      clock,
      metrics: aws.metrics,
      observeMetrics,
      logs: aws.logs,
      deployments: aws.deployments,
      actions: aws.actions,
      notifiers: aws.notifier ? [...given, aws.notifier] : given,
      killSwitch: killSwitchCheck({ policyFlag: doc.safety.killSwitch, envOverride: parseKillSwitchEnv(opts.killSwitchEnv), parameter: killSwitch ? (signal) => killSwitch.isOn(signal) : null }),
    },
  };
}

/** Metrics polled every cycle: those whose newest point was anomalous, and those of open incidents. */
async function suspiciousMetrics(store: Store, policy: CompiledPolicy): Promise<string[]> {
  const cursors = await store.getValues<{ run?: number }>(policy.metrics.map((m) => `detector:${m.id}`));
  const ids = new Set<string>();
  for (const [key, c] of cursors) if ((c.run ?? 0) > 0) ids.add(key.slice('detector:'.length));
  for (const inc of await store.listIncidents({ states: [...OPEN_STATES], limit: 500 })) for (const s of inc.signals) ids.add(s.metricId);
  return [...ids];
}

export interface SimWorld {
  readonly deps: PipelineDeps;
  readonly sim: SimCloud;
  readonly store: Store;
}

export interface SimOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly notifiers: readonly Notifier[];
  readonly clock?: Clock;
  readonly publicUrl: string;
  readonly storePath?: string;
  readonly planner?: Planner;
}

/** The simulated world with its own store: for replays (`runScenario`) and tests, not the daemon. */
export function buildSimWorld(policy: CompiledPolicy, opts: SimOptions): SimWorld {
  const store = openStore(policy, opts.storePath ?? join(opts.dataDir, 'cloudops.db'));
  const world = buildWorld(policy, {
    store,
    logger: opts.logger,
    notifiers: () => opts.notifiers,
    publicUrl: opts.publicUrl,
    dataDir: opts.dataDir,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.planner ? { planner: opts.planner } : {}),
  });
  if (!world.sim) throw new Error('buildSimWorld needs a policy with cloud.kind: sim');
  return { deps: world.deps, sim: world.sim, store };
}

/**
 * The holder of the leader lease on the store at `storePath` while its lease runs, or null (no store
 * yet, free or expired). A daemon starting beside a running one must not remove that one's state.
 */
export async function liveLeaseHolder(policy: CompiledPolicy, storePath: string, wallNow: number): Promise<LeaseRecord | null> {
  if (policy.doc.store.kind !== 'sqlite' || !existsSync(storePath)) return null;
  const store = openStore(policy, storePath);
  try {
    const lease = await store.readLease(LEADER_LEASE);
    return lease && lease.expiresAt > wallNow ? lease : null;
  } finally {
    await store.close();
  }
}

/**
 * A simulated-cloud run whose scenario has already played to its end (a second `npm start`) begins again
 * from the start with fresh state: its store and the simulated cloud's state are removed. A run stopped
 * mid-scenario (a crash, a restart) keeps its state and continues. Returns whether it started afresh.
 * Never for a real account, whose state is always kept; nor on a DynamoDB store: its table is shared
 * with other tasks (one of them may be running the scenario) and is not this process's to empty, so the
 * ended scenario and its incidents are kept (empty the table, or name another, to run it again).
 */
export function restartEndedScenario(policy: CompiledPolicy, dataDir: string, storePath: string, wallNow: number): boolean {
  if (policy.doc.cloud.kind !== 'sim' || !policy.scenarioFile || policy.doc.store.kind !== 'sqlite') return false;
  const state = new SimStateFile(join(dataDir, 'sim-state.json'));
  const wallStart = state.data.wallStart;
  if (wallStart === null || wallStart === undefined) return false;
  const scenario = loadScenario(policy.scenarioFile);
  if ((wallNow - wallStart) * policy.doc.cloud.speed <= parseDuration(scenario.duration)) return false;
  for (const f of [join(dataDir, 'sim-state.json'), storePath, `${storePath}-wal`, `${storePath}-shm`]) if (existsSync(f)) rmSync(f);
  return true;
}

/**
 * AWS with `accounts`: one set of clients per shard (account, region), each account's through one
 * AssumeRole provider (external id when its trust policy asks), for `buildWorld`'s `awsPorts`.
 */
export function shardAwsPorts(policy: CompiledPolicy): ShardPorts {
  return createShardPorts(
    policy.shards.map((s) => ({ key: s.key, region: s.region, roleArn: s.account.roleArn, externalId: s.account.externalId })),
    { region: policy.doc.account.region, endpoint: process.env['AWS_ENDPOINT_URL'], snsTopicArn: policy.doc.notify.sns?.topicArn },
  );
}
