import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface BedrockClientOptions {
  readonly region: string;
  readonly endpoint?: string | undefined;
  /** Per attempt; a drafting call with a few thousand output tokens can take a minute. */
  readonly requestTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * The Bedrock Runtime client for the agent. HTTP/1.1 (NodeHttpHandler) instead of the SDK's HTTP/2
 * default: Converse needs no streams, and the same client then talks to a local stub in tests. The
 * agent retries itself (deadline-aware backoff), so the SDK makes one attempt per call.
 */
export function createBedrockClient(o: BedrockClientOptions): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: o.region,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      requestTimeout: o.requestTimeoutMs ?? 90_000,
      connectionTimeout: o.connectionTimeoutMs ?? 3_000,
      throwOnRequestTimeout: true,
    }),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
  });
}
