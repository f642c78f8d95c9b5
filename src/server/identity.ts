import type { IncomingMessage } from 'node:http';
import { AlbJwtVerifier } from 'aws-jwt-verify';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { approverForToken } from '../approval/approver-tokens.js';
import type { PolicyDoc } from '../policy/schema.js';
import { HttpError } from './http.js';

/**
 * Who is deciding. Behind an ALB with OIDC authentication the ALB signs the user's claims into
 * `x-amzn-oidc-data` (ES256); we verify it (signature, exp, signer = our ALB, issuer, client) and map
 * the email claim to an approver. Without an ALB the approver token (or an email-link token) identifies.
 */
export interface Identity {
  readonly approver: string;
  /** How they were identified, for the decision record: `oidc:<email>`, `token:<name>`, `email-link:<name>`. */
  readonly identity: string;
  readonly via: 'alb-oidc' | 'token' | 'email-link';
}

export interface AlbOidcSettings {
  /** The ALB's ARN (the JWT header's `signer`). */
  readonly albArn: string;
  /** The IdP issuer (the JWT header's `iss`). */
  readonly issuer: string;
  /** The OIDC client id configured on the listener rule (the JWT header's `client`). */
  readonly clientId: string;
  /** Approver tokens still decide while OIDC is on (policy `server.albOidc.allowTokens`); default false. */
  readonly allowTokens?: boolean;
}

export const TOKENS_OFF = 'approver tokens do not decide while ALB OIDC sign-in is on (server.albOidc.allowTokens is false): sign in through the load balancer. Nothing was recorded';

/** Whether approver tokens may decide: always without OIDC; with it, only where the policy allows. */
export function tokensAllowed(alb: AlbOidcSettings | null | undefined): boolean {
  return !alb || alb.allowTokens === true;
}

export const OIDC_DATA_HEADER = 'x-amzn-oidc-data';
const MAX_HEADER_CHARS = 16 * 1024;

/** The approver whose policy email is `email` (case-insensitive), or null. */
export function approverForEmail(approvers: PolicyDoc['approvers'], email: string): string | null {
  const want = email.trim().toLowerCase();
  if (!want) return null;
  for (const [name, a] of Object.entries(approvers)) if (a.email && a.email.toLowerCase() === want) return name;
  return null;
}

export type OidcVerify = (jwt: string) => Promise<Record<string, unknown>>;

/**
 * A verifier of the ALB's user-claims JWT. `jwksCache` replaces the default cache that fetches the
 * ALB's public key from `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (tests pass one
 * that serves a locally generated key).
 */
export function albOidcVerifier(settings: AlbOidcSettings, jwksCache?: JwksCache): OidcVerify {
  const verifier = AlbJwtVerifier.create({ albArn: settings.albArn, issuer: settings.issuer, clientId: settings.clientId }, ...(jwksCache ? [{ jwksCache }] : []));
  return async (jwt) => {
    const payload: Record<string, unknown> = await verifier.verify(jwt);
    return payload;
  };
}

/** Resolves the person behind a request. */
export class IdentityResolver {
  constructor(
    private readonly approvers: PolicyDoc['approvers'],
    private readonly oidc: OidcVerify | null,
    /** With OIDC on, tokens identify only when the policy says so. */
    readonly tokensAllowed: boolean = oidc === null,
  ) {}

  get oidcEnabled(): boolean {
    return this.oidc !== null;
  }

  /**
   * The identity from the ALB header, or null when there is no header or no ALB is configured (the header
   * is then ignored, never trusted). With an ALB configured, a header that does not verify, or an email
   * that is no approver's, is a 401/403: never a fallback to weaker credentials.
   */
  async fromAlb(req: IncomingMessage): Promise<Identity | null> {
    const raw = req.headers[OIDC_DATA_HEADER];
    // Without ALB settings the header is never trusted: ignored, so a token is still needed.
    if (raw === undefined || !this.oidc) return null;
    const jwt = Array.isArray(raw) ? null : raw;
    if (!jwt || jwt.length > MAX_HEADER_CHARS) throw new HttpError(401, `the ${OIDC_DATA_HEADER} header is malformed`);
    let claims: Record<string, unknown>;
    try {
      claims = await this.oidc(jwt);
    } catch (err) {
      const why = err instanceof Error ? err.message.slice(0, 200) : 'invalid';
      throw new HttpError(401, `the ALB identity (${OIDC_DATA_HEADER}) did not verify: ${why}`);
    }
    const email = typeof claims['email'] === 'string' ? claims['email'] : null;
    if (!email) throw new HttpError(403, 'the signed-in identity has no email claim; ask the IdP to release the email scope');
    if (claims['email_verified'] === false || claims['email_verified'] === 'false') throw new HttpError(403, `the email ${email} is not verified by the identity provider`);
    const approver = approverForEmail(this.approvers, email);
    if (!approver) throw new HttpError(403, `${email} is signed in but is not an approver in the policy`);
    return { approver, identity: `oidc:${email.toLowerCase()}`, via: 'alb-oidc' };
  }

  /** From an approver token (form field or bearer), or null. Refused (403) when tokens are off. */
  fromToken(token: string | null): Identity | null {
    if (!this.tokensAllowed) throw new HttpError(403, TOKENS_OFF);
    const approver = approverForToken(this.approvers, token);
    return approver ? { approver, identity: `token:${approver}`, via: 'token' } : null;
  }
}
