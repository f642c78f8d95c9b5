import { DynamoDBClient, TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { commonConfig, compileAwsClientOptions, type AwsClientOptions } from '../cloud/aws/clients.js';
import { classifyAwsError, toPortError } from '../cloud/aws/errors.js';
import { PortError } from '../core/errors.js';
import { StoreAbortedError, StoreError, StoreRejectedError, StoreThrottledError, StoreUnavailableError } from './errors.js';
import { StaleFencingTokenError } from './lease.js';

/**
 * The DynamoDB client of the store and the one place its failures become port errors. Nothing raw from
 * the driver leaves the store: a failed condition is the caller's to interpret (conflict, lost lease), and
 * everything else is a StoreError of errors.ts (throttled; unavailable: 5xx, timeouts, a concurrent
 * transaction; rejected: validation, access, missing table; aborted).
 */

/** One client with the same deadlines as the other AWS clients (src/cloud/aws/clients.ts). */
export function createDynamoClient(options: AwsClientOptions): DynamoDBClient {
  return new DynamoDBClient(commonConfig(compileAwsClientOptions(options)));
}

/** A condition on one item of a write did not hold; `index` is the item's place in the transaction. */
export class ConditionFailed extends Error {
  constructor(
    readonly indexes: readonly number[],
    readonly operation: string,
  ) {
    super(`${operation}: condition failed on item(s) ${indexes.join(', ')}`);
    this.name = 'ConditionFailed';
  }
}

const RETRYABLE_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);
const THROTTLE_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * What a cancelled transaction means: ConditionFailed when a condition was the only obstacle (the caller
 * decides), StoreThrottledError when throttling got in the way, StoreUnavailableError when another
 * transaction did (both retryable), StoreRejectedError otherwise (an item too large, a validation error).
 */
export function cancellationError(reasons: readonly CancellationReason[], operation: string, cause: unknown): ConditionFailed | StoreError {
  const codes = reasons.map((r) => r.Code ?? 'None');
  const failed = codes.flatMap((c, i) => (c === 'ConditionalCheckFailed' ? [i] : []));
  const other = codes.filter((c) => c !== 'None' && c !== 'ConditionalCheckFailed');
  if (other.length === 0 && failed.length > 0) return new ConditionFailed(failed, operation);
  const detail = reasons.map((r, i) => `${i}:${r.Code ?? 'None'}${r.Message ? ` (${r.Message})` : ''}`).join(', ');
  if (other.length > 0 && other.every((c) => THROTTLE_REASONS.has(c))) return new StoreThrottledError(`${operation} cancelled, throttled; retry can help: ${detail}`, { cause });
  if (other.every((c) => RETRYABLE_REASONS.has(c))) return new StoreUnavailableError(`${operation} cancelled, retry can help: ${detail}`, true, { cause });
  return new StoreRejectedError(`${operation} cancelled: ${detail}`, { cause });
}

/**
 * Any failure of the store's DynamoDB work as a store error: the SDK's exceptions by kind (throttled,
 * aborted, unavailable when a retry can help, rejected when it cannot); the store's own errors, a lost
 * lease and ConditionFailed pass through. Pure.
 */
export function toDynamoStoreError(err: unknown, operation: string): Error {
  if (err instanceof StoreError || err instanceof StaleFencingTokenError || err instanceof ConditionFailed || err instanceof RangeError) return err;
  const port = toPortError(err, operation);
  const cause = err instanceof PortError && err.cause !== undefined ? err.cause : err;
  const { kind } = classifyAwsError(cause);
  if (kind === 'cancelled') return new StoreAbortedError(operation, { cause });
  if (kind === 'throttled') return new StoreThrottledError(port.message, { cause });
  return port.retryable ? new StoreUnavailableError(port.message, true, { cause }) : new StoreRejectedError(port.message, { cause });
}

/**
 * Runs one DynamoDB call, handing `fn` the send options that carry the signal to the SDK (an abort stops
 * the request on the wire); throws ConditionFailed or a StoreError, never the driver's error.
 */
export async function dynamoCall<T>(operation: string, signal: AbortSignal | undefined, fn: (send: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new StoreAbortedError(operation, { cause: signal.reason });
  try {
    return await fn(signal ? { abortSignal: signal } : {});
  } catch (err) {
    if (signal?.aborted) throw new StoreAbortedError(operation, { cause: signal.reason });
    if (err instanceof TransactionCanceledException || (err as { name?: unknown } | null)?.name === 'TransactionCanceledException') {
      throw cancellationError((err as TransactionCanceledException).CancellationReasons ?? [], operation, err);
    }
    if ((err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException') throw new ConditionFailed([0], operation);
    throw toDynamoStoreError(err, operation);
  }
}

/** Every DynamoStore method's body: whatever escapes is a store error (ConditionFailed is internal). */
export async function guarded<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new StoreAbortedError(operation, { cause: signal.reason });
  try {
    return await fn();
  } catch (err) {
    if (signal?.aborted && !(err instanceof StoreError)) throw new StoreAbortedError(operation, { cause: signal.reason });
    if (err instanceof ConditionFailed) throw new StoreUnavailableError(`${operation}: a condition failed unexpectedly (${err.message}); re-read and try again`, true, { cause: err });
    throw toDynamoStoreError(err, operation);
  }
}
