/**
 * Retryability is data: every failure that crosses a port says whether trying again can help.
 * Adapters translate vendor errors into these at their boundary.
 */
export class PortError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Throttling, timeouts, 5xx, connection resets: the same call may succeed later. */
export class TransientError extends PortError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
  }
}

/** Bad request, access denied, not found, validation: retrying the same call cannot help. */
export class PermanentError extends PortError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof PortError && err.retryable;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
