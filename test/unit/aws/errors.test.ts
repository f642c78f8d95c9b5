import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/core/errors.js';
import { awsCall, classifyAwsError, toPortError } from '../../../src/cloud/aws/errors.js';

const sdkError = (name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') =>
  Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status, requestId: 'req-1' } });

describe('classifyAwsError', () => {
  it.each([
    ['ThrottlingException', 400, 'throttled', true],
    ['Throttling', 400, 'throttled', true],
    ['TooManyRequestsException', 429, 'throttled', true],
    ['LimitExceededException', 400, 'throttled', true],
    ['InternalFailure', 500, 'server', true],
    ['ServiceUnavailable', 503, 'server', true],
    ['SomethingNew', 502, 'server', true],
    ['ConflictException', 409, 'conflict', true],
    ['AccessDeniedException', 400, 'access', false],
    ['AccessDenied', 403, 'access', false],
    ['UnrecognizedClientException', 400, 'access', false],
    ['ValidationException', 400, 'invalid', false],
    ['InvalidParameterValue', 400, 'invalid', false],
    ['ResourceNotFoundException', 400, 'not_found', false],
    ['PipelineNotFoundException', 400, 'not_found', false],
  ] as const)('%s (HTTP %i) is %s, retryable=%s', (name, status, kind, retryable) => {
    expect(classifyAwsError(sdkError(name, status))).toEqual({ kind, retryable });
  });

  it('treats an abort as cancelled and retryable', () => {
    const e = new DOMException('This operation was aborted', 'AbortError');
    expect(classifyAwsError(e)).toEqual({ kind: 'cancelled', retryable: true });
  });

  it('treats a request timeout and a connection reset as transient', () => {
    expect(classifyAwsError(Object.assign(new Error('t'), { name: 'TimeoutError' })).retryable).toBe(true);
    expect(classifyAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toEqual({ kind: 'network', retryable: true });
  });

  it('treats an unknown plain error as permanent', () => {
    expect(classifyAwsError(new Error('??'))).toEqual({ kind: 'unknown', retryable: false });
  });
});

describe('toPortError', () => {
  it('names the operation, the SDK error and the request id, and chains the cause', () => {
    const cause = sdkError('ThrottlingException', 400);
    const e = toPortError(cause, 'cloudwatch.GetMetricData');
    expect(e).toBeInstanceOf(TransientError);
    expect(e.message).toBe('cloudwatch.GetMetricData throttled: ThrottlingException: ThrottlingException happened [HTTP 400] (request req-1)');
    expect(e.cause).toBe(cause);
  });

  it('passes a PortError through unchanged', () => {
    const e = new PermanentError('x');
    expect(toPortError(e, 'op')).toBe(e);
  });
});

describe('awsCall', () => {
  it('reports a call whose signal was aborted as a retryable cancellation, whatever the SDK threw', async () => {
    const ac = new AbortController();
    const p = awsCall('logs.StartQuery', ac.signal, async () => {
      ac.abort();
      throw new Error('socket hang up');
    });
    await expect(p).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('logs.StartQuery cancelled') });
  });

  it('does not call at all when the signal is already aborted', async () => {
    let called = false;
    await expect(awsCall('x', AbortSignal.abort(), async () => (called = true))).rejects.toBeInstanceOf(TransientError);
    expect(called).toBe(false);
  });
});
