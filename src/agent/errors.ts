/**
 * The agent's error family. Each one is a reason to fall back to the template planner; `reason` is the
 * label the proposal carries and the metric counts.
 */
export type FallbackReason =
  | 'disabled'
  | 'breaker_open'
  | 'budget'
  | 'throttled'
  | 'model_error'
  | 'invalid_output'
  | 'guardrail'
  | 'deadline'
  | 'step_cap'
  | 'no_allowed_step';

export class AgentError extends Error {
  constructor(
    readonly reason: FallbackReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A Bedrock call failed; `retryable` says whether the same call may succeed later. */
export class ModelCallError extends AgentError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(code === 'ThrottlingException' || code === 'ServiceUnavailableException' ? 'throttled' : 'model_error', message, options);
  }
}
