import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ConsoleNotifier } from './approval/channels/console-notifier.js';
import { EmailNotifier, snsEmailPublisher } from './approval/email-notifier.js';
import type { Notifier } from './cloud/ports.js';
import { buildWorld, liveLeaseHolder, openStore, restartEndedScenario, shardAwsPorts } from './compose.js';
import { SystemClock, VirtualClock, abortableTimeout } from './core/clock.js';
import { errorMessage } from './core/errors.js';
import { createLogger } from './core/logger.js';
import { KILL_SWITCH_ENV } from './execute/kill-switch.js';
import { INCIDENT_STATES } from './incident/lifecycle.js';
import { LeaderElector } from './pipeline/leader.js';
import { ShardLeases, registerShardMetrics } from './pipeline/shard-leases.js';
import { shardReadiness } from './pipeline/readiness.js';
import { ShardWatchers } from './pipeline/shard-watchers.js';
import type { DecisionRequest } from './approval/record-decision.js';
import type { CompiledShard } from './policy/compile.js';
import { planSpendMetrics, registerIncidentMetrics, registerLeaderMetrics, type PipelineMetrics } from './pipeline/metrics.js';
import { pipelineSettings } from './pipeline/settings.js';
import { readiness } from './pipeline/readiness.js';
import { describeDegraded, SourceHealth, trackSources, type SourceName } from './pipeline/source-health.js';
import { RunState } from './pipeline/run-state.js';
import { runSchedule } from './pipeline/schedule.js';
import { Watcher } from './pipeline/watcher.js';
import { approvalRules, compilePolicy, type CompiledPolicy } from './policy/compile.js';
import { loadPolicyFile } from './policy/load.js';
import type { PipelineDeps } from './pipeline/context.js';
import type { Planner } from './runbook/planner.js';
import { assertRunbooksRunnable } from './runbook/catalog.js';
import { createSnsClient } from './cloud/aws/clients.js';
import { approvalWebRoutes } from './server/email-routes.js';
import { createHttpServer, listen, type ServerDeps } from './server/server.js';
import { mcpDepsFrom } from './mcp/mcp-deps.js';
import { mcpHttpRoute } from './mcp/mcp-http.js';
import { approveCommands, canStillApprove } from './server/render/approve-command.js';
import { demoApprovers } from './approval/demo-token.js';
import { slackFromPolicy } from './server/slack-routes.js';
import { createAskService } from './agent/ask.js';
import { routedSources } from './pipeline/routed-sources.js';
import { askRoutes } from './server/ask-route.js';
import { loadCatalog } from './runbook/catalog.js';
import { leaseOwnerId, ownerCertainlyDead } from './store/lease-owner.js';
import { StoreMaintenance } from './store/maintenance.js';
import type { Store } from './store/store.js';

/** How often (pipeline clock) the store archives ended incidents and checkpoints its WAL. */
const MAINTAIN_EVERY_MS = 10 * 60_000;

export interface DaemonOptions {
  readonly policyFile: string;
  readonly port?: number;
  readonly host?: string;
  /** Where the store and the simulated cloud's state live (read-only root: /tmp or a volume). */
  readonly dataDir?: string;
  readonly logLevel?: string;
  readonly logger?: Logger;
  /** Simulated cloud only: virtual seconds per wall second (overrides the policy). */
  readonly speed?: number;
  /** Simulated cloud only: wall-clock latency of every action (crash tests). */
  readonly simActionLatencyMs?: number;
  /** Drafts runbooks instead of the template planner (the agent plugs in here). */
  readonly planner?: Planner;
  /** Where the console channel writes (stdout by default; stderr under `run --json`, whose stdout is JSON only). */
  readonly consoleOut?: (text: string) => void;
  /** Tests: wraps the world's ports and store (fault injection) before their health is tracked. */
  readonly wrapPorts?: (deps: PipelineDeps) => PipelineDeps;
}

export interface Daemon {
  readonly url: string;
  /** The pipeline (with `accounts`: the first shard's, its decisions routed to each incident's own shard). */
  readonly watcher: Watcher;
  /** starting → running → draining → stopped. */
  readonly run: RunState;
  readonly store: Store;
  readonly policy: CompiledPolicy;
  /** The leader lease: only its holder polls, drafts, notifies and executes. Null with `accounts` (see `shards`). */
  readonly leader: LeaderElector | null;
  /** A policy with `accounts`: the shard leases (one per account and region) and one pipeline per shard. */
  readonly shards: ShardLeases | null;
  readonly pipelines: ShardWatchers | null;
  stop(): Promise<void>;
}

/**
 * The shortest staleness /readyz tolerates, in wall ms: a simulated clock at 600x would otherwise ask
 * for a finished cycle every few hundred wall milliseconds, less than one cycle's own work.
 */
const MIN_READY_AGE_MS = 10_000;

export { demoToken } from './approval/demo-token.js';

/**
 * The composition root: policy → store (once) → world (sim or AWS, chosen in compose.ts) with the
 * notifiers built from the store and clock → pipeline (the Watcher) → schedule and HTTP server.
 * Lifecycle: starting → running → draining → stopped; `stop()` drains for `pipeline.shutdownGrace`.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger ?? createLogger({ level: opts.logLevel ?? 'info' });
  const loaded = loadPolicyFile(opts.policyFile).policy;
  if (opts.speed !== undefined && loaded.cloud.kind === 'sim') loaded.cloud.speed = opts.speed;
  const policy = compilePolicy(loaded, opts.policyFile);
  assertRunbooksRunnable(policy); // the same runbook check as `cloudops validate`: refuse to start on it
  const doc = policy.doc;
  // A policy with `accounts`: one pipeline per shard (account, region) behind its own lease (issue 16 item 5).
  const sharded = doc.accounts !== undefined;
  const host = opts.host ?? process.env['HOST'] ?? doc.server.host;
  const port = opts.port ?? doc.server.port;
  const dataDir = resolve(opts.dataDir ?? process.env['CLOUDOPS_DATA_DIR'] ?? '.');
  const storePath = policy.storePath && !isAbsolute(policy.storePath) ? join(dataDir, policy.storePath) : (policy.storePath ?? join(dataDir, 'cloudops.db'));
  const run = new RunState('starting');

  let publicUrl = doc.server.publicUrl ?? '';
  const approveCommand = (id: string, approver: string): string => `npm run cloudops -- approve ${id} --as ${approver}${publicUrl && !publicUrl.endsWith(':8080') ? ` --url ${publicUrl}` : ''}`;
  const demo = demoApprovers(doc.approvers);
  /** The runnable approve commands for an incident's current request (issue 15 bug 5). */
  const approveLines = async (s: Store, id: string): Promise<string[]> => {
    const inc = await s.getIncident(id);
    if (!inc?.approval || !inc.runbook) return [];
    const rules = approvalRules(policy, inc.runbook.risk, inc.approval.escalated);
    return approveCommands((who) => approveCommand(id, who), canStillApprove(inc, await s.listDecisions(id), rules.eligible), demo);
  };
  // Secrets are checked before anything is opened: a missing one stops the start with the variable's name.
  const slack = slackFromPolicy(policy, { logger });
  const emailCfg = doc.notify.email;
  const linkSecret = emailCfg ? process.env[emailCfg.linkSecretEnv] : undefined;
  if (emailCfg && !linkSecret) throw new Error(`notify.email: the link secret variable ${emailCfg.linkSecretEnv} is not set`);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const cycles = new Counter({ name: 'cloudops_cycles_total', help: 'Poll cycles run', labelNames: ['outcome'], registers: [registry] });
  const cycleSeconds = new Histogram({ name: 'cloudops_cycle_seconds', help: 'Wall time of one poll cycle', buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60], registers: [registry] });
  const stageFailures = new Counter({ name: 'cloudops_stage_failures_total', help: 'Stage failures (one per incident, or per whole stage)', labelNames: ['stage'], registers: [registry] });
  const pipelineMetrics: PipelineMetrics = {
    ...planSpendMetrics(registry),
    stageFailed: (stage) => stageFailures.inc({ stage }),
    cycleEnded: (outcome, seconds) => {
      cycles.inc({ outcome });
      cycleSeconds.observe(seconds);
    },
  };

  // Never from under a running daemon: one that holds the store's lease keeps its state (it ends the scenario itself).
  const holder = await liveLeaseHolder(policy, storePath, Date.now());
  if (holder === null && restartEndedScenario(policy, join(storePath, '..'), storePath, Date.now())) {
    logger.warn({ stage: 'start', dataDir: join(storePath, '..') }, 'the scenario had played to its end: starting it again from the beginning with fresh state');
  }
  const store = openStore(policy, storePath);
  // One writer per store: this process acts only while it holds the leader lease (real time, whatever
  // the simulated clock's speed); meanwhile it serves HTTP and records decisions for the leader.
  const leaseClock = new SystemClock();
  const leaseOptions = {
    store,
    owner: leaseOwnerId(),
    // A daemon on this machine that crashed (SIGKILL, OOM) is taken over at once; any other waits for expiry.
    ownerDead: (owner: string) => ownerCertainlyDead(owner),
    ttlMs: pipelineSettings(policy).leaseTtlMs,
    clock: leaseClock,
    monotonic: leaseClock.monotonic,
    logger,
  };
  // One lease for the whole store, or one per shard (a task holds its fair share of them).
  const leader = sharded ? null : new LeaderElector(leaseOptions);
  const leases = sharded ? new ShardLeases({ ...leaseOptions, shards: policy.shards.map((s) => ({ key: s.key, lease: s.lease ?? '' })) }) : null;
  if (leader) registerLeaderMetrics(registry, () => leader.status());
  if (leases) registerShardMetrics(registry, () => leases.status());
  const lease = (leader ?? leases) as LeaderElector | ShardLeases;
  let sns: SNSClient | null = null;
  const shardPorts = sharded && doc.cloud.kind === 'aws' ? shardAwsPorts(policy) : null;
  const shards: readonly (CompiledShard | null)[] = sharded ? policy.shards : [null];
  const worlds = shards.map((shard) => buildWorld(policy, {
    store,
    logger,
    killSwitchEnv: process.env[KILL_SWITCH_ENV],
    dataDir: join(storePath, '..'),
    publicUrl: '',
    run,
    pipelineMetrics,
    gate: shard && leases ? leases.gate(shard.key) : (leader as LeaderElector).gate,
    fence: () => (shard && leases ? leases.fence(shard.key) : (leader as LeaderElector).fence()),
    ...(shard ? { shard } : {}),
    ...(shard && shardPorts ? { awsPorts: shardPorts.get(shard.key) } : {}),
    ...(opts.planner ? { planner: opts.planner } : {}),
    notifiers: ({ store: s, clock }) => {
      const out: Notifier[] = [];
      if (doc.notify.console) out.push(new ConsoleNotifier((id) => approveLines(s, id), opts.consoleOut));
      if (slack) {
        slack.notifier.attach(s, clock);
        out.push(slack.notifier);
      }
      if (emailCfg && linkSecret) {
        sns ??= createSnsClient({ region: doc.account.region, endpoint: process.env['AWS_ENDPOINT_URL'] });
        out.push(new EmailNotifier({ policy, secret: linkSecret, publicUrl: () => publicUrl, publish: snsEmailPublisher(sns, emailCfg.topicArn), store: s, clock }));
      }
      return out;
    },
  }));
  for (const w of worlds) if (w.sim) w.sim.actionLatencyMs = opts.simActionLatencyMs ?? 0;
  // Every port and store call reports to the health tracker: a failing source shows in /readyz and
  // /metrics while it fails and clears on its next good answer, without a restart.
  // One tracker per shard: a throttled account or region is named as such, not as the whole task's trouble.
  const sourceErrors = new Counter({ name: 'cloudops_source_errors_total', help: 'Failed calls to a source (port or store) by reason, per shard', labelNames: ['source', 'reason', 'shard'], registers: [registry] });
  const shardKeys = worlds.map((_w, i) => shards[i]?.key ?? (policy.shards[0] as CompiledShard).key);
  const healths = shardKeys.map((shard) => new SourceHealth(Date.now, (source, reason) => sourceErrors.inc({ source, reason, shard })));
  const SOURCES: readonly SourceName[] = ['metrics', 'logs', 'deployments', 'actions', 'killSwitch', 'store'];
  new Gauge({ name: 'cloudops_source_degraded', help: '1 while the last call to a source failed, per shard', labelNames: ['source', 'shard'], registers: [registry], collect() { healths.forEach((h, i) => { for (const src of SOURCES) this.set({ source: src, shard: shardKeys[i] }, h.isDegraded(src) ? 1 : 0); }); } });
  const shardDeps = worlds.map((w, i) => trackSources(opts.wrapPorts ? opts.wrapPorts(w.deps) : w.deps, healths[i] as SourceHealth));
  const deps = shardDeps[0] as PipelineDeps;
  registerIncidentMetrics(registry, store, () => deps.clock.now());
  // MCP and follow-up questions serve every shard: each question goes to the account and region it is about.
  const routed = routedSources(policy, shardDeps.map((d, i) => ({ shard: shards[i] ?? null, metrics: d.metrics, logs: d.logs, deployments: d.deployments })));
  const shardWatchers = shardDeps.map((d) => new Watcher({ ...d, get publicUrl() { return publicUrl; } }));
  const pipelines = sharded ? new ShardWatchers(policy, store, new Map(policy.shards.map((s, i) => [s.key, shardWatchers[i] as Watcher]))) : null;
  // What the routes see: the first shard's pipeline (pages, follow-ups), with decisions routed to the incident's own shard.
  const watcher: Watcher = pipelines ? Object.assign(Object.create(shardWatchers[0] as Watcher) as Watcher, { decide: (req: DecisionRequest) => pipelines.decide(req) }) : (shardWatchers[0] as Watcher);
  const settings = deps.settings;
  const slackActions = slack?.actions({ decide: (req) => watcher.decide(req), store, clock: deps.clock }) ?? null;
  // Follow-up questions to the agent: answered beside the pipeline (own deadline), refused when the agent is off.
  const ask = createAskService(policy, { store, clock: deps.clock, metrics: routed.metrics, logs: routed.logs, deployments: routed.deployments, sourcesFor: (inc) => routed.forIncident(inc), templates: loadCatalog(policy.runbookDir, doc.actions), logger, endpoint: process.env['AWS_ENDPOINT_URL'] });
  // Questions a stopped daemon was answering would show "answering" forever: recorded as failed first.
  await ask.recoverInterrupted().catch((err: unknown) => logger.warn({ stage: 'ask', err: errorMessage(err) }, 'could not close the questions a stopped daemon was answering'));
  const slackEvents = slack?.events({ ask, store }) ?? null;

  new Gauge({
    name: 'cloudops_incidents',
    help: 'Incidents by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await store.countIncidentsByState();
      for (const s of INCIDENT_STATES) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  new Gauge({ name: 'cloudops_cycle_overruns', help: 'Cycles that overran their deadline', registers: [registry], collect() { this.set(shardWatchers.reduce((n, w) => n + w.overruns, 0)); } });

  // Clock milliseconds per wall millisecond: readiness and the schedule are timed on the wall's monotonic timers.
  const speed = deps.clock instanceof VirtualClock ? deps.clock.speed : 1;
  const serverDeps: ServerDeps = {
    store,
    policy,
    clock: deps.clock,
    watcher,
    logger,
    registry,
    approveCommand,
    ready: () => {
      const of = (w: Watcher, role: { role: 'leader' | 'follower'; why: string }, health: SourceHealth) =>
        readiness({
          phase: run.phase,
          lastSuccessMono: w.lastSuccessMono,
          lastError: w.lastError,
          nowMono: performance.now(),
          maxAgeMs: Math.max(MIN_READY_AGE_MS, (settings.readyAfterIntervals * policy.pollEveryMs) / speed),
          leader: role,
          degraded: describeDegraded(health.degraded(), Date.now()),
        });
      if (!leases) return of(watcher, (leader as LeaderElector).status(), healths[0] as SourceHealth);
      const st = leases.status();
      return shardReadiness(st.shards.map((s, i) => ({ shard: s.key, ...of(shardWatchers[i] as Watcher, { role: s.role, why: s.why }, healths[i] as SourceHealth) })));
    },
  };
  // Socket Mode connects to Slack here (rejects when Slack refuses the app token); HTTP mode has nothing to start.
  await slackActions?.start();
  const mcp = mcpHttpRoute(mcpDepsFrom({ ...deps, store, policy, metrics: routed.metrics, logs: routed.logs, deployments: routed.deployments }, () => publicUrl, (svc) => routed.placesOf(svc)));
  const server = createHttpServer({
    ...serverDeps,
    extraRoutes: [...(slackActions?.route ? [slackActions.route] : []), ...(slackEvents ? [slackEvents.route] : []), askRoutes(serverDeps, ask, { alb: doc.server.albOidc ?? null }), mcp.route, ...approvalWebRoutes(serverDeps, { linkSecret: linkSecret ?? null, alb: doc.server.albOidc ?? null })],
  });
  const boundPort = await listen(server, port, host);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  publicUrl = doc.server.publicUrl ?? `http://${shownHost}:${boundPort}`;
  // The first lease attempt before running: a lone daemon acts from its first cycle; a second one follows.
  const first = leader ? await leader.renew() : await (leases as ShardLeases).round();
  lease.start();
  run.to('running');
  const role = 'role' in first ? { role: first.role, lease: first.why } : { shards: first.shards.map((s) => `${s.key}: ${s.role}`).join(', ') };
  logger.info({ stage: 'start', url: publicUrl, ...role, cloud: doc.cloud.kind, policy: opts.policyFile }, 'cloudops-watcher started');

  // Archiving and the WAL checkpoint, between cycles (bounded growth, issue 16 item 7).
  const maintenance = new StoreMaintenance(store, MAINTAIN_EVERY_MS, (err) => logger.warn({ stage: 'store', err: errorMessage(err) }, 'store maintenance failed; tried again later'));
  // One schedule for both worlds: every `schedule.every` of the pipeline's clock, on monotonic timers.
  const scheduleStop = new AbortController();
  const loop = runSchedule({ intervalMs: policy.pollEveryMs, speed, sleep: (ms, signal) => deps.clock.sleep(ms, signal), cycle: async () => {
    await (pipelines ? pipelines.cycle() : watcher.cycle());
    await maintenance.maybe(deps.clock.now(), scheduleStop.signal);
  }, signal: scheduleStop.signal });

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Draining: no new cycle, no new stage work, no new step; drafts stop (retried after a restart).
      run.to('draining');
      logger.info({ stage: 'shutdown', graceMs: settings.shutdownGraceMs }, 'draining: no new work, finishing what is in flight');
      scheduleStop.abort();
      for (const w of shardWatchers) w.beginDrain();
      const grace = abortableTimeout(settings.shutdownGraceMs).then(() => 'grace' as const);
      const settled = Promise.all([loop, ...shardWatchers.map((w) => w.drain()), slackActions?.stop(), slackActions?.idle()]).then(() => 'settled' as const);
      if ((await Promise.race([settled, grace])) === 'grace') logger.warn({ stage: 'shutdown' }, 'grace period over: cancelling work still in flight');
      for (const w of shardWatchers) w.stop();
      ask.stop();
      await Promise.all([ask.idle(), slackEvents?.idle()]);
      ask.close();
      await mcp.close();
      // After the work in flight: the next leader takes over at once instead of waiting for the TTL.
      await lease.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
      for (const w of worlds) w.release();
      shardPorts?.destroy();
      sns?.destroy();
      run.to('stopped');
      logger.info({ stage: 'shutdown' }, 'stopped');
    })();
    return stopped;
  };
  return { url: publicUrl, watcher, pipelines, run, store, policy, leader, shards: leases, stop };
}

/** Runs the daemon until SIGTERM or SIGINT, then shuts down cleanly and exits 0. The one owner of signals. */
export async function runUntilSignalled(opts: DaemonOptions): Promise<void> {
  const daemon = await startDaemon(opts);
  process.stdout.write(`\ncloudops-watcher is watching. Incidents: ${daemon.url}/\n`);
  process.stdout.write(`List them: npm run cloudops -- incidents${daemon.url.endsWith(':8080') ? '' : ` --url ${daemon.url}`}\n\n`);
  const onSignal = (sig: string): void => {
    daemon
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`shutdown after ${sig} failed: ${errorMessage(err)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

export { SystemClock };
