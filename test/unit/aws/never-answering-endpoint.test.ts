import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, createSnsClient, type AwsClients } from '../../../src/cloud/aws/clients.js';
import { CloudWatchMetricSource } from '../../../src/cloud/aws/cloudwatch-metrics.js';
import { CodePipelineDeploymentSource } from '../../../src/cloud/aws/codepipeline-deployments.js';
import { PortError } from '../../../src/core/errors.js';
import type { EpochMs } from '../../../src/core/time.js';
import { PublishCommand } from '@aws-sdk/client-sns';

/**
 * A TCP server that accepts every connection, reads what it is sent, and never writes a byte back:
 * an AWS endpoint that hangs. Without `throwOnRequestTimeout` the SDK only logs a warning and the
 * call waits until the OS gives up (minutes); with it the call must fail within its deadline.
 */
let server: Server;
let endpoint = '';
const sockets = new Set<Socket>();
let accepted = 0;

beforeAll(async () => {
  server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('data', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => server.close(() => r()));
});

const REQUEST_TIMEOUT_MS = 300;
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const range = { start: (T0 - 3_600_000) as EpochMs, end: T0 as EpochMs };

/** Runs `call`, expecting a retryable PortError within `boundMs`; a generous outer signal proves the client gave up on its own. */
async function failsWithinDeadline(call: (signal: AbortSignal) => Promise<unknown>, boundMs: number): Promise<{ err: PortError; elapsed: number }> {
  const started = performance.now();
  let caught: unknown;
  try {
    await call(AbortSignal.timeout(30_000));
  } catch (err) {
    caught = err;
  }
  const elapsed = performance.now() - started;
  expect(caught).toBeInstanceOf(PortError);
  expect(elapsed).toBeLessThan(boundMs);
  return { err: caught as PortError, elapsed };
}

describe('an endpoint that accepts connections and never answers', () => {
  let clients: AwsClients;
  beforeAll(() => {
    clients = createAwsClients({ region: 'us-east-1', endpoint, credentials, maxAttempts: 2, retryMode: 'standard', requestTimeoutMs: REQUEST_TIMEOUT_MS, connectionTimeoutMs: 200 });
  });
  afterAll(() => clients.destroy());

  it('CloudWatch GetMetricData fails within its deadline with a retryable PortError', async () => {
    const before = accepted;
    const src = new CloudWatchMetricSource(clients.cloudwatch);
    const q = { id: 'm1', service: 's', namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: {}, stat: 'Average', periodSec: 60 };
    // Two attempts of 300 ms each plus the SDK's retry backoff (< 1 s at attempt 2).
    const { err } = await failsWithinDeadline((signal) => src.fetch([q], range, signal), 4_000);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/GetMetricData timeout: TimeoutError/);
    expect(accepted - before).toBe(2); // the request reached the server and was retried once
  });

  it('CodePipeline (GetPipeline, then ListPipelineExecutions) fails within its deadline with a retryable PortError', async () => {
    const src = new CodePipelineDeploymentSource(clients.codepipeline);
    const { err } = await failsWithinDeadline((signal) => src.list(['checkout-deploy'], range, signal), 4_000);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/codepipeline\.GetPipeline\(checkout-deploy\) timeout: TimeoutError/);
  });

  it('the SNS client from createSnsClient has the same deadline', async () => {
    const sns = createSnsClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1, requestTimeoutMs: REQUEST_TIMEOUT_MS, connectionTimeoutMs: 200 });
    const started = performance.now();
    const err = await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'x' })).then(() => null, (e: unknown) => e as Error);
    sns.destroy();
    expect(err?.name).toBe('TimeoutError');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
