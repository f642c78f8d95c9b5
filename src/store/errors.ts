import { PortError } from '../core/errors.js';

/**
 * The store's one error family. Every Store method fails with a StoreError (or StaleFencingTokenError,
 * lease.ts, or a RangeError for arguments that can never be valid): the driver's own errors (better-sqlite3's
 * SqliteError, the AWS SDK's exceptions) are translated at the store's boundary and kept as `cause`.
 * `retryable` says whether the same call may succeed later (core/errors.ts `isRetryable`).
 */
export type StoreErrorKind = 'conflict' | 'unavailable' | 'throttled' | 'aborted' | 'rejected' | 'budget_spent';

export abstract class StoreError extends PortError {
  abstract readonly kind: StoreErrorKind;
}

/** Another writer changed the incident first; the caller re-reads and decides again. */
export class StoreConflictError extends StoreError {
  readonly kind = 'conflict';
  constructor(
    readonly incidentId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | null,
  ) {
    super(`incident ${incidentId} is at version ${actualVersion ?? 'none'}, not ${expectedVersion}`, false);
  }
}

/** A compare-and-set on a named value kept losing to other writers (see update-value.ts). */
export class StoreValueConflictError extends StoreError {
  readonly kind = 'conflict';
  constructor(
    readonly key: string,
    attempts: number,
  ) {
    super(`value ${key} was changed by another writer on each of ${attempts} attempts; try again`, true);
  }
}

/** The store cannot answer now (locked, busy, closed, unreachable, a 5xx or a timeout). */
export class StoreUnavailableError extends StoreError {
  readonly kind = 'unavailable';
  constructor(message: string, retryable = true, options?: { cause?: unknown }) {
    super(message, retryable, options);
  }
}

/** The store refused the rate of requests (DynamoDB throttling); back off and try again. */
export class StoreThrottledError extends StoreError {
  readonly kind = 'throttled';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
  }
}

/** The caller's AbortSignal fired; nothing was written unless the write had already landed. */
export class StoreAbortedError extends StoreError {
  readonly kind = 'aborted';
  constructor(operation: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? options.cause.message : typeof options?.cause === 'string' ? options.cause : '';
    super(`${operation} aborted${why ? `: ${why}` : ''}`, false, options);
  }
}

/** The request can never succeed as sent (validation, access, a missing table, a duplicate id, too large). */
export class StoreRejectedError extends StoreError {
  readonly kind = 'rejected';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** The blast-radius budget of the hour is spent: the step claim was refused and nothing was written. */
export class StepBudgetSpentError extends StoreError {
  readonly kind = 'budget_spent';
  constructor(
    readonly hourStart: number,
    readonly used: number,
    readonly max: number,
  ) {
    super(`${used} step(s) already started in the hour from ${new Date(hourStart).toISOString()} (limit ${max}); the claim was refused`, false);
  }
}
