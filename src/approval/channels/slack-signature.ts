import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack rejects replays older than this; so do we (Slack's documented window). */
export const SLACK_MAX_SKEW_MS = 5 * 60_000;

export type SlackSignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly why: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the signing secret. */
export function slackSignature(signingSecret: string, timestampSec: string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`v0:${timestampSec}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Verifies a request from Slack over its raw body (before any parsing): the timestamp within five
 * minutes of `nowMs` (wall time, not the pipeline's virtual clock), then the signature in constant
 * time. Returns why it failed, never the expected signature.
 */
export function verifySlackSignature(input: {
  readonly signingSecret: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly rawBody: Buffer;
  readonly nowMs: number;
}): SlackSignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, why: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, why: 'bad_timestamp' };
  if (Math.abs(input.nowMs - Number(timestamp) * 1000) > SLACK_MAX_SKEW_MS) return { ok: false, why: 'stale_timestamp' };
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, why: 'bad_signature' };
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, why: 'bad_signature' };
  return { ok: true };
}
