import {
  ApplyGuardrailCommand,
  ConverseCommand,
  type ApplyGuardrailCommandInput,
  type ApplyGuardrailCommandOutput,
  type BedrockRuntimeClient,
  type ConverseCommandInput,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { ModelCallError } from './errors.js';

/** The two Bedrock calls the agent makes, behind a port so the loop never sees the SDK's errors. */
export interface ModelPort {
  converse(input: ConverseCommandInput, signal: AbortSignal): Promise<ConverseCommandOutput>;
  applyGuardrail(input: ApplyGuardrailCommandInput, signal: AbortSignal): Promise<ApplyGuardrailCommandOutput>;
}

// Bedrock's retryable faults: quota (429), capacity (503), a model that is warming up or timed out.
const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'ModelNotReadyException', 'ModelTimeoutException', 'InternalServerException', 'TimeoutError', 'RequestTimeout']);
const NODE_TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED']);

/** Pure: a Bedrock SDK failure as a ModelCallError with retryability decided. */
export function translateModelError(err: unknown): ModelCallError {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } } | null;
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const code = e?.code && NODE_TRANSIENT.has(e.code) ? e.code : name;
  const retryable = RETRYABLE.has(name) || NODE_TRANSIENT.has(e?.code ?? '') || status === 429 || (status !== undefined && status >= 500);
  const codeName = status === 429 && !RETRYABLE.has(name) ? 'ThrottlingException' : code;
  return new ModelCallError(`${name}${status ? ` (${status})` : ''}: ${(e?.message ?? String(err)).slice(0, 300)}`, retryable, codeName, { cause: err });
}

/** The SDK client behind the port. Abort and deadlines travel as the SDK's abortSignal. */
export class BedrockModel implements ModelPort {
  constructor(private readonly client: BedrockRuntimeClient) {}

  async converse(input: ConverseCommandInput, signal: AbortSignal): Promise<ConverseCommandOutput> {
    try {
      return await this.client.send(new ConverseCommand(input), { abortSignal: signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      throw translateModelError(err);
    }
  }

  async applyGuardrail(input: ApplyGuardrailCommandInput, signal: AbortSignal): Promise<ApplyGuardrailCommandOutput> {
    try {
      return await this.client.send(new ApplyGuardrailCommand(input), { abortSignal: signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      throw translateModelError(err);
    }
  }
}
