import type { ConverseCommandInput, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { AgentError, ModelCallError } from './errors.js';
import type { ModelPort } from './model.js';

export interface RetryOptions {
  readonly retries: number;
  readonly baseMs: number;
  /** Sleeps that reject when the signal aborts (the run's deadline). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/** Backoff before retry `n` (0-based): exponential with full jitter, capped at 20 s. */
export function backoffMs(n: number, baseMs: number, random: () => number): number {
  return Math.min(20_000, baseMs * 2 ** n) * (0.5 + random() / 2);
}

/**
 * One Converse call with retries of retryable faults (throttling, 503, model not ready), bounded by
 * `retries` and by the run's signal. A model timeout is retried once: a second one means the request
 * itself is too heavy. Returns the response and how many attempts it took.
 */
export async function converseWithRetry(model: ModelPort, input: ConverseCommandInput, o: RetryOptions, signal: AbortSignal): Promise<{ output: ConverseCommandOutput; attempts: number }> {
  const random = o.random ?? Math.random;
  let timeouts = 0;
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) throw new AgentError('deadline', 'the run was cut off before the model answered', { cause: signal.reason });
    try {
      return { output: await model.converse(input, signal), attempts: attempt + 1 };
    } catch (err) {
      if (signal.aborted) throw new AgentError('deadline', 'the run was cut off while the model was answering', { cause: err });
      if (!(err instanceof ModelCallError)) throw err;
      if (err.code === 'ModelTimeoutException' && ++timeouts > 1) throw err;
      if (!err.retryable || attempt >= o.retries) {
        throw err.retryable ? new ModelCallError(`${err.message} (after ${attempt + 1} attempts)`, true, err.code, { cause: err }) : err;
      }
      try {
        await o.sleep(backoffMs(attempt, o.baseMs, random), signal);
      } catch (cause) {
        throw new AgentError('deadline', 'the run was cut off while backing off from a throttled call', { cause });
      }
    }
  }
}
