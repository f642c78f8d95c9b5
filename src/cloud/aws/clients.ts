import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Every AWS SDK client the daemon uses, built once in the composition root from one small options
 * object. Credentials come from the SDK's default chain (the ECS task role in production) unless a
 * test passes static ones.
 */
export interface AwsClientOptions {
  readonly region: string;
  /** Endpoint override for every service (moto, the CodePipeline stub). Empty string = none. */
  readonly endpoint?: string | undefined;
  /** Attempts per call, including the first (SDK retry). Default 3. */
  readonly maxAttempts?: number;
  /** Default 'adaptive': client-side rate limiting on top of backoff, which is what throttling needs. */
  readonly retryMode?: 'adaptive' | 'standard';
  /** Socket idle/request timeout per attempt. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** TCP connect timeout per attempt. Default 3 s. */
  readonly connectionTimeoutMs?: number;
  /** Never gzip request bodies (PutMetricData). Only for emulators that cannot read gzip. */
  readonly disableRequestCompression?: boolean;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** The options with every default applied and checked: no optional fields except the overrides. */
export interface CompiledAwsClientOptions {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly maxAttempts: number;
  readonly retryMode: 'adaptive' | 'standard';
  readonly requestTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly disableRequestCompression: boolean;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
}

export interface AwsClients {
  readonly cloudwatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
  readonly codepipeline: CodePipelineClient;
  readonly sns: SNSClient;
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
  /** Closes every client's sockets. */
  destroy(): void;
}

/** Applies defaults and rejects contradictions with field-qualified messages. */
export function compileAwsClientOptions(o: AwsClientOptions): CompiledAwsClientOptions {
  const problems: string[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(o.region)) problems.push(`region: expected an AWS region such as eu-west-1, got "${o.region}"`);
  const endpoint = o.endpoint === undefined || o.endpoint === '' ? undefined : o.endpoint;
  if (endpoint !== undefined) {
    try {
      const u = new URL(endpoint);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`endpoint: expected http(s) URL, got "${endpoint}"`);
    } catch {
      problems.push(`endpoint: not a URL: "${endpoint}"`);
    }
  }
  const maxAttempts = o.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) problems.push(`maxAttempts: expected an integer 1..10, got ${maxAttempts}`);
  const requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
  if (!(requestTimeoutMs >= 100 && requestTimeoutMs <= 300_000)) problems.push(`requestTimeoutMs: expected 100..300000, got ${requestTimeoutMs}`);
  const connectionTimeoutMs = o.connectionTimeoutMs ?? 3_000;
  if (!(connectionTimeoutMs >= 100 && connectionTimeoutMs <= requestTimeoutMs)) {
    problems.push(`connectionTimeoutMs: expected 100..requestTimeoutMs (${requestTimeoutMs}), got ${connectionTimeoutMs}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid AWS client options:\n  ${problems.join('\n  ')}`);
  return {
    region: o.region,
    endpoint,
    maxAttempts,
    retryMode: o.retryMode ?? 'adaptive',
    requestTimeoutMs,
    connectionTimeoutMs,
    disableRequestCompression: o.disableRequestCompression ?? false,
    credentials: o.credentials,
  };
}

/**
 * The configuration every client shares. `throwOnRequestTimeout` is what makes `requestTimeout` a real
 * deadline: without it @smithy/node-http-handler only logs a warning and an endpoint that accepts the
 * connection and never answers holds the call (and the poll cycle) for minutes. `socketTimeout` also
 * ends a response that stalls half-way.
 */
export function commonConfig(o: CompiledAwsClientOptions) {
  return {
    region: o.region,
    maxAttempts: o.maxAttempts,
    retryMode: o.retryMode,
    // A plain options object makes the SDK build its NodeHttpHandler with these timeouts, without us
    // importing @smithy/node-http-handler (a transitive dependency) directly.
    requestHandler: {
      requestTimeout: o.requestTimeoutMs,
      connectionTimeout: o.connectionTimeoutMs,
      socketTimeout: o.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
  };
}

/** One SNS client with the same timeouts as the rest (the email channel on the simulated cloud). */
export function createSnsClient(options: AwsClientOptions): SNSClient {
  return new SNSClient(commonConfig(compileAwsClientOptions(options)));
}

/** Builds every client once. Call from the composition root only. */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  const o = compileAwsClientOptions(options);
  const common = commonConfig(o);
  const cloudwatch = new CloudWatchClient({ ...common, disableRequestCompression: o.disableRequestCompression });
  const logs = new CloudWatchLogsClient(common);
  const codepipeline = new CodePipelineClient(common);
  const sns = new SNSClient(common);
  const ecs = new ECSClient(common);
  const ssm = new SSMClient(common);
  const lambda = new LambdaClient(common);
  return {
    cloudwatch,
    logs,
    codepipeline,
    sns,
    ecs,
    ssm,
    lambda,
    destroy() {
      for (const c of [cloudwatch, logs, codepipeline, sns, ecs, ssm, lambda]) c.destroy();
    },
  };
}
