import { STSClient } from '@aws-sdk/client-sts';
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../ports.js';
import { assumeRoleProvider, type AssumedRoleProvider } from './assume-role.js';
import { commonConfig, compileAwsClientOptions, createAwsClients, type AwsClientOptions, type AwsClients } from './clients.js';
import { CloudWatchMetricSource, type CloudWatchMetricOptions } from './cloudwatch-metrics.js';
import { AwsActionTarget } from './codepipeline-actions.js';
import { CodePipelineDeploymentSource, type CodePipelineOptions } from './codepipeline-deployments.js';
import { InsightsLogSource, type LogsOptions } from './logs-insights.js';
import { SnsNotifier } from './sns-notifier.js';

export type { AwsClientOptions, AwsClients } from './clients.js';
export { AssumeRoleError, assumeRoleProvider, type AssumedRoleProvider } from './assume-role.js';
export type { BandedMetricSeries, MetricIssue } from './cloudwatch-metrics.js';
export { bandVerdict } from './cloudwatch-metrics.js';
export type { ErrorProfileQuery, ErrorWindow } from './logs-insights.js';
export { classifyAwsError, toPortError } from './errors.js';

export interface AwsPortsOptions extends AwsClientOptions {
  /** SNS topic for email announcements; no notifier without it. */
  readonly snsTopicArn?: string | undefined;
  readonly metrics?: CloudWatchMetricOptions;
  readonly logs?: LogsOptions;
  readonly deployments?: CodePipelineOptions;
}

export interface AwsPorts {
  readonly metrics: CloudWatchMetricSource & MetricSource;
  readonly logs: InsightsLogSource & LogSource;
  readonly deployments: CodePipelineDeploymentSource & DeploymentSource;
  readonly actions: ActionTarget;
  readonly notifier?: Notifier;
  /** The SDK clients, for shutdown (`clients.destroy()`) and for tests. */
  readonly clients: AwsClients;
}

/**
 * The single entry point for real AWS: builds every SDK client once and the port adapters over them.
 * Example: createAwsPorts({ region: 'eu-west-1', endpoint: process.env.AWS_ENDPOINT_URL, snsTopicArn })
 */
export function createAwsPorts(options: AwsPortsOptions): AwsPorts {
  const clients = createAwsClients(options);
  const deployments = new CodePipelineDeploymentSource(clients.codepipeline, options.deployments);
  const ports: AwsPorts = {
    metrics: new CloudWatchMetricSource(clients.cloudwatch, options.metrics),
    logs: new InsightsLogSource(clients.logs, options.logs),
    deployments,
    actions: new AwsActionTarget(clients, deployments),
    clients,
  };
  return options.snsTopicArn !== undefined && options.snsTopicArn !== '' ? { ...ports, notifier: new SnsNotifier(clients.sns, options.snsTopicArn) } : ports;
}

/** Where one shard's clients point: its region, and the role assumed in its account (null: own credentials). */
export interface ShardTarget {
  /** `account/region`, unique per target. */
  readonly key: string;
  readonly region: string;
  readonly roleArn: string | null;
  readonly externalId: string | null;
}

export interface ShardPorts {
  /** The ports of one target, by its key. */
  get(key: string): AwsPorts;
  /** The assumed-role providers, by role ARN (and external id): one per account, shared by its regions. */
  readonly providers: ReadonlyMap<string, AssumedRoleProvider>;
  destroy(): void;
}

/**
 * One set of clients and adapters per (account, region), built once (issue 16 item 5). Each account's
 * credentials come from one AssumeRole provider shared by all its regions' clients; the STS client that
 * assumes them uses the task's own credentials (or `options.credentials`) in `options.region`.
 */
export function createShardPorts(targets: readonly ShardTarget[], options: AwsPortsOptions & { readonly sessionName?: string }): ShardPorts {
  const ports = new Map<string, AwsPorts>();
  const providers = new Map<string, AssumedRoleProvider>();
  let sts: STSClient | null = null;
  for (const t of targets) {
    if (ports.has(t.key)) throw new RangeError(`two shards share the key ${t.key}`);
    let credentials = options.credentials;
    if (t.roleArn !== null) {
      const id = `${t.roleArn}\u0000${t.externalId ?? ''}`;
      let p = providers.get(id);
      if (!p) {
        sts ??= new STSClient(commonConfig(compileAwsClientOptions(options)));
        p = assumeRoleProvider({ sts, roleArn: t.roleArn, externalId: t.externalId, ...(options.sessionName ? { sessionName: options.sessionName } : {}) });
        providers.set(id, p);
      }
      credentials = p;
    }
    ports.set(t.key, createAwsPorts({ ...options, region: t.region, ...(credentials ? { credentials } : {}) }));
  }
  return {
    get(key) {
      const p = ports.get(key);
      if (!p) throw new RangeError(`no clients for shard ${key}`);
      return p;
    },
    providers,
    destroy() {
      for (const p of ports.values()) p.clients.destroy();
      sts?.destroy();
    },
  };
}
