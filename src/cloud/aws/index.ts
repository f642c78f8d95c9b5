import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../ports.js';
import { createAwsClients, type AwsClientOptions, type AwsClients } from './clients.js';
import { CloudWatchMetricSource, type CloudWatchMetricOptions } from './cloudwatch-metrics.js';
import { AwsActionTarget } from './codepipeline-actions.js';
import { CodePipelineDeploymentSource, type CodePipelineOptions } from './codepipeline-deployments.js';
import { InsightsLogSource, type LogsOptions } from './logs-insights.js';
import { SnsNotifier } from './sns-notifier.js';

export type { AwsClientOptions, AwsClients } from './clients.js';
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
