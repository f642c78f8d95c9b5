import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { errorMessage } from '../../core/errors.js';
import { raceAbort } from '../../pipeline/deadline.js';

/**
 * Credentials for another account (issue 16 item 5): STS AssumeRole with the role's external id, cached
 * and refreshed before they expire. Every client of one account shares one provider, so one account
 * costs one AssumeRole per session whatever its regions and services; callers that ask at the same
 * time share one call. Each call has a deadline that really aborts it.
 */

export interface AssumeRoleOptions {
  /** The STS client the role is assumed with (the task's own credentials). */
  readonly sts: STSClient;
  readonly roleArn: string;
  /** sts:ExternalId, when the role's trust policy requires one. */
  readonly externalId?: string | null;
  /** Shown in CloudTrail of the other account. Default "cloudops-watcher". */
  readonly sessionName?: string;
  /** Requested session length. Default 3600 (STS allows 900 up to the role's maximum, at most 43200). */
  readonly durationSeconds?: number;
  /** Refresh this long before the expiry. Default 5 minutes (the SDK's own providers use 5 minutes too). */
  readonly refreshBeforeMs?: number;
  /** Deadline of one AssumeRole call. Default 10 s. */
  readonly timeoutMs?: number;
  /** Wall clock for the expiry comparison. Default Date.now. */
  readonly now?: () => number;
}

/** AssumeRole failed (refused, no answer in time) and no earlier credentials are still valid. */
export class AssumeRoleError extends Error {
  constructor(
    readonly roleArn: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot assume role ${roleArn}: ${message}`, options);
    this.name = 'AssumeRoleError';
  }
}

export interface AssumedRoleProvider extends AwsCredentialIdentityProvider {
  /** AssumeRole calls made so far (metrics, tests). */
  readonly calls: () => number;
}

/** Session names STS accepts: 2–64 of [\w+=,.@-]. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** A credential provider for `roleArn`: assumes it on first use and again `refreshBeforeMs` before expiry. */
export function assumeRoleProvider(o: AssumeRoleOptions): AssumedRoleProvider {
  const sessionName = o.sessionName ?? 'cloudops-watcher';
  if (!SESSION_NAME.test(sessionName)) throw new RangeError(`session name must be 2-64 of letters, digits and +=,.@_-, got "${sessionName}"`);
  const durationSeconds = o.durationSeconds ?? 3600;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) throw new RangeError(`durationSeconds must be an integer 900..43200, got ${durationSeconds}`);
  const refreshBeforeMs = o.refreshBeforeMs ?? 5 * 60_000;
  // A refresh margin as long as the session would assume the role again on every call.
  if (!(refreshBeforeMs >= 0 && refreshBeforeMs < durationSeconds * 1000)) throw new RangeError(`refreshBeforeMs must be in [0, ${durationSeconds * 1000}), got ${refreshBeforeMs}`);
  const timeoutMs = o.timeoutMs ?? 10_000;
  if (!(timeoutMs >= 100 && timeoutMs <= 120_000)) throw new RangeError(`timeoutMs must be 100..120000, got ${timeoutMs}`);
  const now = o.now ?? Date.now;

  let current: AwsCredentialIdentity | null = null;
  let inFlight: Promise<AwsCredentialIdentity> | null = null;
  let calls = 0;

  const assume = async (): Promise<AwsCredentialIdentity> => {
    calls++;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const out = await raceAbort(
        o.sts.send(new AssumeRoleCommand({ RoleArn: o.roleArn, RoleSessionName: sessionName, DurationSeconds: durationSeconds, ...(o.externalId ? { ExternalId: o.externalId } : {}) }), { abortSignal: deadline }),
        deadline,
        () => new Error(`no answer within ${timeoutMs} ms`),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error('the answer has no complete credentials');
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
    } catch (err) {
      throw new AssumeRoleError(o.roleArn, errorMessage(err), { cause: err });
    }
  };

  const fresh = (c: AwsCredentialIdentity | null): c is AwsCredentialIdentity => c !== null && (c.expiration === undefined || c.expiration.getTime() - refreshBeforeMs > now());
  const valid = (c: AwsCredentialIdentity | null): c is AwsCredentialIdentity => c !== null && (c.expiration === undefined || c.expiration.getTime() > now());

  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (fresh(current)) return current;
    inFlight ??= assume().finally(() => {
      inFlight = null;
    });
    try {
      current = await inFlight;
      return current;
    } catch (err) {
      // A failed early refresh keeps the session that still works; the next call tries again.
      if (valid(current)) return current;
      throw err;
    }
  };
  return Object.assign(provider, { calls: () => calls });
}
