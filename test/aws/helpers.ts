import { inject } from 'vitest';
import { createAwsPorts, type AwsPorts, type AwsPortsOptions } from '../../src/cloud/aws/index.js';

/** moto's URL, from the global setup. */
export function motoUrl(): string {
  return inject('motoUrl');
}

/** Wipes moto's state: call in each file's beforeAll so files do not see each other's data. */
export async function resetMoto(): Promise<void> {
  const res = await fetch(`${motoUrl()}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** Real adapters pointed at an endpoint; CloudWatch bodies are never gzipped (moto cannot read them). */
export function portsAt(endpoint: string, extra: Partial<AwsPortsOptions> = {}): AwsPorts {
  return createAwsPorts({ region: 'us-east-1', endpoint, credentials: TEST_CREDENTIALS, disableRequestCompression: true, maxAttempts: 1, ...extra });
}

export const signal = (): AbortSignal => AbortSignal.timeout(30_000);
