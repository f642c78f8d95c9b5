import { DynamoDBClient, TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { commonConfig, compileAwsClientOptions, type AwsClientOptions } from '../cloud/aws/clients.js';
import { abortReason, toPortError } from '../cloud/aws/errors.js';
import { PermanentError, TransientError, type PortError } from '../core/errors.js';

/**
 * The DynamoDB client of the store and the one place its failures become port errors. Nothing raw from
 * the driver leaves the store: a failed condition is the caller's to interpret (conflict, lost lease), and
 * everything else is a TransientError (throttling, 5xx, timeouts, a concurrent transaction) or a
 * PermanentError (validation, access, missing table).
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

/**
 * What a cancelled transaction means: ConditionFailed when a condition was the only obstacle (the caller
 * decides), a TransientError when another transaction or throttling got in the way, a PermanentError
 * otherwise (an item too large, a validation error).
 */
export function cancellationError(reasons: readonly CancellationReason[], operation: string, cause: unknown): ConditionFailed | PortError {
  const codes = reasons.map((r) => r.Code ?? 'None');
  const failed = codes.flatMap((c, i) => (c === 'ConditionalCheckFailed' ? [i] : []));
  const other = codes.filter((c) => c !== 'None' && c !== 'ConditionalCheckFailed');
  if (other.length === 0 && failed.length > 0) return new ConditionFailed(failed, operation);
  const detail = reasons.map((r, i) => `${i}:${r.Code ?? 'None'}${r.Message ? ` (${r.Message})` : ''}`).join(', ');
  if (other.every((c) => RETRYABLE_REASONS.has(c))) return new TransientError(`${operation} cancelled, retry can help: ${detail}`, { cause });
  return new PermanentError(`${operation} cancelled: ${detail}`, { cause });
}

/** Runs one DynamoDB call; throws ConditionFailed or a PortError, never the driver's error. */
export async function dynamoCall<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw toPortError(abortReason(signal), operation);
  try {
    return await fn();
  } catch (err) {
    if (signal?.aborted) throw toPortError(abortReason(signal), operation);
    if (err instanceof TransactionCanceledException || (err as { name?: unknown } | null)?.name === 'TransactionCanceledException') {
      throw cancellationError((err as TransactionCanceledException).CancellationReasons ?? [], operation, err);
    }
    if ((err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException') throw new ConditionFailed([0], operation);
    throw toPortError(err, operation);
  }
}
