import { PermanentError, PortError, TransientError } from '../../core/errors.js';

/**
 * The one place where AWS SDK failures become port errors. Pure: looks only at the error value.
 * Transient = the same call may succeed later (throttling, 5xx, timeouts, resets, cancellation of
 * this attempt); permanent = it cannot (access denied, validation, not found, bad state).
 */

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'TransactionInProgressException',
  // Logs Insights: too many concurrent queries. Clears when other queries finish.
  'LimitExceededException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceFault',
  'InternalServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
  'BandwidthLimitExceeded',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'IDPCommunicationError',
  'ConcurrentModificationException',
  'ConflictException',
  // CodePipeline: too many executions running at once; clears as they finish.
  'ConcurrentPipelineExecutionsLimitExceededException',
]);

const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** What we could read off an error, whatever produced it. */
interface ErrorFacts {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly fault: 'client' | 'server' | undefined;
  readonly retryable: boolean;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
}

function facts(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) {
    return { name: 'Error', message: String(err), status: undefined, fault: undefined, retryable: false, code: undefined, requestId: undefined };
  }
  const e = err as Record<string, unknown>;
  const meta = (typeof e.$metadata === 'object' && e.$metadata !== null ? e.$metadata : {}) as Record<string, unknown>;
  const status = typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
  const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  return {
    name,
    message,
    status,
    fault: e.$fault === 'client' || e.$fault === 'server' ? e.$fault : undefined,
    retryable: typeof e.$retryable === 'object' && e.$retryable !== null,
    code: typeof e.code === 'string' ? e.code : typeof e.Code === 'string' ? e.Code : undefined,
    requestId: typeof meta.requestId === 'string' ? meta.requestId : undefined,
  };
}

/** Why an error is (not) worth retrying, for logs and tests. */
export type AwsErrorKind = 'cancelled' | 'throttled' | 'timeout' | 'network' | 'server' | 'access' | 'not_found' | 'invalid' | 'conflict' | 'unknown';

/** Classifies an SDK (or network, or abort) error. Pure. */
export function classifyAwsError(err: unknown): { kind: AwsErrorKind; retryable: boolean } {
  const f = facts(err);
  if (f.name === 'AbortError' || f.code === 'ABORT_ERR') return { kind: 'cancelled', retryable: true };
  if (THROTTLING.has(f.name) || THROTTLING.has(f.code ?? '') || f.status === 429) return { kind: 'throttled', retryable: true };
  if (f.name === 'TimeoutError' || f.name === 'RequestTimeout' || f.name === 'RequestTimeoutException' || f.code === 'ETIMEDOUT' || f.code === 'TimeoutError') {
    return { kind: 'timeout', retryable: true };
  }
  if (f.code !== undefined && TRANSIENT_NODE_CODES.has(f.code)) return { kind: 'network', retryable: true };
  if (/AccessDenied|Unauthorized|NotAuthorized|Forbidden|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|MissingAuthenticationToken|AuthFailure|CredentialsProviderError/i.test(f.name)) {
    return { kind: 'access', retryable: false };
  }
  if (f.name === 'ConflictException' || f.name === 'ConcurrentModificationException') return { kind: 'conflict', retryable: true };
  if (TRANSIENT_NAMES.has(f.name) || f.retryable || f.fault === 'server' || (f.status !== undefined && f.status >= 500)) {
    return { kind: 'server', retryable: true };
  }
  if (/NotFound|NoSuch|DoesNotExist/i.test(f.name) || f.status === 404) return { kind: 'not_found', retryable: false };
  if (f.fault === 'client' || (f.status !== undefined && f.status >= 400)) return { kind: 'invalid', retryable: false };
  if (/Validation|InvalidParameter|MissingParameter|Invalid/i.test(f.name)) return { kind: 'invalid', retryable: false };
  return { kind: 'unknown', retryable: false };
}

/**
 * Translates any failure of an AWS call into a PortError that names the call. A PortError passes
 * through unchanged, so adapters can wrap whole operations without double translation.
 * Example: toPortError(e, 'cloudwatch.GetMetricData') → TransientError("cloudwatch.GetMetricData throttled: ThrottlingException: Rate exceeded")
 */
export function toPortError(err: unknown, operation: string): PortError {
  if (err instanceof PortError) return err;
  const f = facts(err);
  const { kind, retryable } = classifyAwsError(err);
  const detail = [f.name, f.message].filter((s) => s !== '').join(': ');
  const req = f.requestId !== undefined ? ` (request ${f.requestId})` : '';
  const status = f.status !== undefined ? ` [HTTP ${f.status}]` : '';
  const text = `${operation} ${kind === 'unknown' ? 'failed' : kind.replace('_', ' ')}: ${detail}${status}${req}`;
  return retryable ? new TransientError(text, { cause: err }) : new PermanentError(text, { cause: err });
}

/** Runs one AWS call and translates its failure at the adapter boundary. */
export async function awsCall<T>(operation: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw toPortError(abortReason(signal), operation);
  try {
    return await fn();
  } catch (err) {
    throw toPortError(signal.aborted ? abortReason(signal) : err, operation);
  }
}

/** The signal's reason as an AbortError-like value (a bare `abort()` gives a DOMException already). */
export function abortReason(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.name === 'AbortError' || r.name === 'TimeoutError' ? r : Object.assign(new Error(r.message, { cause: r }), { name: 'AbortError' });
  return Object.assign(new Error(typeof r === 'string' ? r : 'operation aborted'), { name: 'AbortError' });
}
