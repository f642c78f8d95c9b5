import { dirname, isAbsolute, join, resolve } from 'node:path';
import { schedule as cronSchedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConsoleNotifier } from './approval/channels/console-notifier.js';
import type { Notifier } from './cloud/ports.js';
import { buildSimWorld } from './compose.js';
import { SystemClock } from './core/clock.js';
import { errorMessage } from './core/errors.js';
import { createLogger } from './core/logger.js';
import { INCIDENT_STATES } from './incident/lifecycle.js';
import { Watcher } from './pipeline/watcher.js';
import { compilePolicy, type CompiledPolicy } from './policy/compile.js';
import { loadPolicyFile } from './policy/load.js';
import { assertRunbooksRunnable } from './runbook/catalog.js';
import { createHttpServer, listen, type ServerDeps } from './server/server.js';
import type { PipelineDeps } from './pipeline/context.js';
import type { Store } from './store/store.js';
import { buildAwsWorld } from './compose-aws.js';
import type { SNSClient } from '@aws-sdk/client-sns';
import { createSnsClient } from './cloud/aws/clients.js';
import { EmailNotifier, snsEmailPublisher } from './approval/email-notifier.js';
import { approvalWebRoutes } from './server/email-routes.js';
import { slackFromPolicy } from './server/slack-routes.js';

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
}

export interface Daemon {
  readonly url: string;
  readonly watcher: Watcher;
  readonly store: Store;
  readonly policy: CompiledPolicy;
  stop(): Promise<void>;
}

/** Where the CLI finds the demo token for an approver when CLOUDOPS_TOKEN is unset (documented in config/demo.yaml). */
export const demoToken = (approver: string): string => `demo-token-${approver}`;

/** The composition root: policy → ports → pipeline → scheduler and HTTP server. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger ?? createLogger({ level: opts.logLevel ?? 'info' });
  const loaded = loadPolicyFile(opts.policyFile).policy;
  if (opts.speed !== undefined && loaded.cloud.kind === 'sim') loaded.cloud.speed = opts.speed;
  const policy = compilePolicy(loaded, opts.policyFile);
  assertRunbooksRunnable(policy); // the same runbook check as `cloudops validate`: refuse to start on it
  const doc = policy.doc;
  const host = opts.host ?? process.env['HOST'] ?? doc.server.host;
  const port = opts.port ?? doc.server.port;
  const dataDir = resolve(opts.dataDir ?? process.env['CLOUDOPS_DATA_DIR'] ?? '.');
  const storePath = policy.storePath && !isAbsolute(policy.storePath) ? join(dataDir, policy.storePath) : (policy.storePath ?? join(dataDir, 'cloudops.db'));

  let publicUrl = doc.server.publicUrl ?? '';
  const approveCommand = (id: string): string => `npm run cloudops -- approve ${id} --as <approver>${publicUrl && !publicUrl.endsWith(':8080') ? ` --url ${publicUrl}` : ''}`;
  const notifiers: Notifier[] = [];
  if (doc.notify.console) notifiers.push(new ConsoleNotifier(approveCommand));
  // Channels are built before the ports (the AWS composition copies this list) and attached to the
  // store and clock once those exist. A missing secret stops the start with the variable's name.
  const slack = slackFromPolicy(policy, { logger });
  if (slack) notifiers.push(slack.notifier);
  const emailCfg = doc.notify.email;
  const linkSecret = emailCfg ? process.env[emailCfg.linkSecretEnv] : undefined;
  if (emailCfg && !linkSecret) throw new Error(`notify.email: the link secret variable ${emailCfg.linkSecretEnv} is not set`);
  let sns: SNSClient | null = null;
  let email: EmailNotifier | null = null;
  if (emailCfg && linkSecret) {
    sns = createSnsClient({ region: doc.account.region, endpoint: process.env['AWS_ENDPOINT_URL'] });
    email = new EmailNotifier({ policy, secret: linkSecret, publicUrl: () => publicUrl, publish: snsEmailPublisher(sns, emailCfg.topicArn) });
    notifiers.push(email);
  }

  let deps: PipelineDeps;
  let release = (): void => undefined;
  if (doc.cloud.kind === 'sim') {
    const world = buildSimWorld(policy, { dataDir: dirname(storePath), storePath, logger, notifiers, publicUrl: '' });
    world.sim.actionLatencyMs = opts.simActionLatencyMs ?? 0;
    deps = world.deps;
  } else {
    const world = buildAwsWorld(policy, { storePath, logger, notifiers, publicUrl: '' });
    release = () => world.ports.clients.destroy();
    deps = world.deps;
  }
  const watcher = new Watcher({ ...deps, get publicUrl() { return publicUrl; } });
  email?.attach(deps.store, deps.clock);
  const slackActions = slack?.actions({ decide: (req) => watcher.decide(req), store: deps.store, clock: deps.clock }) ?? null;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const cycles = new Counter({ name: 'cloudops_cycles_total', help: 'Poll cycles run', labelNames: ['outcome'], registers: [registry] });
  const cycleSeconds = new Histogram({ name: 'cloudops_cycle_seconds', help: 'Wall time of one poll cycle', buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60], registers: [registry] });
  new Gauge({
    name: 'cloudops_incidents',
    help: 'Incidents by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const all = await deps.store.listIncidents({ limit: 10_000 });
      for (const s of INCIDENT_STATES) this.set({ state: s }, all.filter((i) => i.state === s).length);
    },
  });

  let stopping = false;
  let lastCycleWall = 0;
  const runCycle = async (): Promise<void> => {
    const end = cycleSeconds.startTimer();
    await watcher.runCycle();
    end();
    lastCycleWall = Date.now();
    cycles.inc({ outcome: watcher.lastError ? 'error' : 'ok' });
  };

  const serverDeps: ServerDeps = {
    store: deps.store,
    policy,
    clock: deps.clock,
    watcher,
    logger,
    registry,
    approveCommand,
    ready: () => {
      if (stopping) return { ok: false, why: 'shutting down' };
      if (watcher.cycles === 0) return { ok: false, why: 'no poll cycle has finished yet' };
      if (watcher.lastError) return { ok: false, why: `last cycle failed: ${watcher.lastError}` };
      return { ok: true, why: `last cycle ${Math.round((Date.now() - lastCycleWall) / 1000)} s ago` };
    },
  };
  // Socket Mode connects to Slack here (rejects when Slack refuses the app token); HTTP mode has nothing to start.
  await slackActions?.start();
  const server = createHttpServer({
    ...serverDeps,
    extraRoutes: [...(slackActions?.route ? [slackActions.route] : []), ...approvalWebRoutes(serverDeps, { linkSecret: linkSecret ?? null, alb: doc.server.albOidc ?? null })],
  });
  const boundPort = await listen(server, port, host);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  publicUrl = doc.server.publicUrl ?? `http://${shownHost}:${boundPort}`;
  logger.info({ stage: 'start', url: publicUrl, cloud: doc.cloud.kind, policy: opts.policyFile }, 'cloudops-watcher started');

  // The schedule: the simulated clock polls every `schedule.every` of virtual time; the real clock uses cron.
  let loop: Promise<void> = Promise.resolve();
  let task: ScheduledTask | null = null;
  if (doc.cloud.kind === 'sim') {
    loop = (async () => {
      while (!stopping) {
        await runCycle();
        try {
          await deps.clock.sleep(policy.pollEveryMs, watcher.signal);
        } catch {
          break;
        }
      }
    })();
  } else {
    await runCycle();
    task = cronSchedule(doc.schedule.cron, () => runCycle(), { noOverlap: true, name: 'poll' });
  }

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ stage: 'shutdown' }, 'stopping: no new cycles, finishing the write in flight');
    await task?.stop();
    watcher.stop();
    const grace = new Promise<void>((r) => setTimeout(r, 8_000).unref());
    await Promise.race([Promise.all([loop, watcher.drain(), slackActions?.stop(), slackActions?.idle()]), grace]);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await deps.store.close();
    release();
    sns?.destroy();
    logger.info({ stage: 'shutdown' }, 'stopped');
  };
  return { url: publicUrl, watcher, store: deps.store, policy, stop };
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
