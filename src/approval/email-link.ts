import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EpochMs } from '../core/time.js';
import type { Store } from '../store/store.js';

/**
 * Signed, expiring, single-use email-link tokens. A token names one incident, one runbook hash and one
 * approver; it is `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, domain "." claims))`.
 *
 * A token only identifies who the link was sent to. Opening the link (GET) never decides anything: mail
 * scanners follow links and some run scripts. A decision needs a POST with a CSRF token from the page,
 * and the token is burned (recorded in the store) the first time a POST uses it.
 */
export interface EmailLinkClaims {
  readonly v: 1;
  /** Incident id. */
  readonly inc: string;
  /** Runbook hash the approver is asked about (sha256:…). */
  readonly rh: string;
  /** Approver name from the policy. */
  readonly ap: string;
  /** Expiry, epoch ms. */
  readonly exp: number;
  /** Random id: the single-use key. */
  readonly jti: string;
}

export type EmailLinkProblem = 'malformed' | 'bad_signature' | 'other_incident' | 'other_runbook' | 'expired' | 'used';

/** Why a link token was refused; `status` is the HTTP status to answer with. */
export class EmailLinkError extends Error {
  constructor(
    readonly problem: EmailLinkProblem,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'EmailLinkError';
  }
}

const DOMAIN = 'cloudops-watcher.email-link.v1';
export const MIN_SECRET_BYTES = 32;
export const MAX_TOKEN_CHARS = 1024;

/** Checks a link-signing secret: at least 32 bytes. Throws with a message naming the problem. */
export function checkLinkSecret(secret: string | Buffer | undefined): Buffer {
  if (secret === undefined || secret.length === 0) throw new Error('no email-link signing secret is configured');
  const buf = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (buf.length < MIN_SECRET_BYTES) throw new Error(`the email-link signing secret must be at least ${MIN_SECRET_BYTES} bytes (got ${buf.length})`);
  return buf;
}

function mac(secret: Buffer, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${DOMAIN}.${payload}`, 'utf8').digest();
}

/** Signs a token for `claims` (pass `jti` in tests; otherwise 16 random bytes). Pure apart from the random id. */
export function signEmailLinkToken(secret: string | Buffer, claims: Omit<EmailLinkClaims, 'v' | 'jti'> & { readonly jti?: string }): string {
  const key = checkLinkSecret(secret);
  const full: EmailLinkClaims = { v: 1, inc: claims.inc, rh: claims.rh, ap: claims.ap, exp: claims.exp, jti: claims.jti ?? randomBytes(16).toString('base64url') };
  const payload = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

function isClaims(v: unknown): v is EmailLinkClaims {
  if (!v || typeof v !== 'object') return false;
  const c = v as Record<string, unknown>;
  return (
    c['v'] === 1 &&
    typeof c['inc'] === 'string' && c['inc'].length > 0 && c['inc'].length <= 200 &&
    typeof c['rh'] === 'string' && /^sha256:[0-9a-f]{64}$/.test(c['rh']) &&
    typeof c['ap'] === 'string' && /^[a-z][a-z0-9_-]{0,99}$/.test(c['ap']) &&
    typeof c['exp'] === 'number' && Number.isFinite(c['exp']) &&
    typeof c['jti'] === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(c['jti'])
  );
}

/**
 * Verifies a token's signature and shape and that it is for `incidentId` and not expired at `now`.
 * Does not check single use (see `EmailLinkUses`) or the current runbook hash (see `expectRunbook`). Pure.
 */
export function verifyEmailLinkToken(secret: string | Buffer, token: string | null | undefined, expect: { readonly incidentId: string; readonly now: EpochMs | number }): EmailLinkClaims {
  const key = checkLinkSecret(secret);
  if (!token || token.length > MAX_TOKEN_CHARS) throw new EmailLinkError('malformed', 'the link has no valid token; open the link from the email again', 400);
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw new EmailLinkError('malformed', 'the link token is malformed (was the address cut or changed?)', 400);
  const payload = m[1] ?? '';
  const given = Buffer.from(m[2] ?? '', 'base64url');
  const want = mac(key, payload);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new EmailLinkError('bad_signature', 'the link token is not signed by this watcher', 401);
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new EmailLinkError('malformed', 'the link token is malformed', 400);
  }
  if (!isClaims(claims)) throw new EmailLinkError('malformed', 'the link token is malformed', 400);
  if (claims.inc !== expect.incidentId) throw new EmailLinkError('other_incident', `this link is for incident ${claims.inc}, not ${expect.incidentId}; nothing was recorded`, 403);
  if (expect.now >= claims.exp) throw new EmailLinkError('expired', 'this link has expired; nothing was recorded', 410);
  return claims;
}

/** Refuses a token whose runbook hash is not the one currently awaiting approval. */
export function expectRunbook(claims: EmailLinkClaims, currentHash: string | null | undefined): void {
  if (!currentHash || claims.rh !== currentHash) {
    throw new EmailLinkError('other_runbook', 'this link is for another version of the runbook; review the current version on the incident page. Nothing was recorded', 409);
  }
}

export interface EmailLinkUse {
  readonly at: number;
  readonly incidentId: string;
  readonly approver: string;
  readonly verdict: 'approve' | 'reject';
}

/**
 * Single use, recorded in the store (`email-link.used.<jti>`). `claim` writes the use before the decision
 * is recorded (write-ahead): a token whose POST failed half way is still spent. The claim is a
 * compare-and-set on an absent key, so of two claims of one token (in this process, or on two tasks
 * sharing the store) exactly one lands.
 */
export class EmailLinkUses {
  constructor(private readonly store: Store) {}

  static key(jti: string): string {
    return `email-link.used.${jti}`;
  }

  async usedAt(jti: string): Promise<EmailLinkUse | null> {
    return this.store.getValue<EmailLinkUse>(EmailLinkUses.key(jti));
  }

  /** Marks the token used; throws EmailLinkError('used') if it already was. */
  async claim(claims: EmailLinkClaims, use: EmailLinkUse): Promise<void> {
    const res = await this.store.compareAndSetValue<EmailLinkUse>(EmailLinkUses.key(claims.jti), null, use);
    if (!res.ok) throw usedError(res.current?.value ?? null);
  }
}

function usedError(prior: EmailLinkUse | null): EmailLinkError {
  const when = prior ? ` at ${new Date(prior.at).toISOString()}` : '';
  return new EmailLinkError('used', `this link was already used${when}; each link decides once. Nothing new was recorded`, 409);
}

/** The address of the confirmation page for a token: `<publicUrl>/email/<incident>?t=<token>`. */
export function emailLinkUrl(publicUrl: string, incidentId: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/email/${encodeURIComponent(incidentId)}?t=${encodeURIComponent(token)}`;
}
