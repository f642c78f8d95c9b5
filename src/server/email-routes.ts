import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { checkLinkSecret, EmailLinkError, EmailLinkUses, expectRunbook, verifyEmailLinkToken, type EmailLinkClaims } from '../approval/email-link.js';
import { ApprovalError } from '../approval/errors.js';
import { decisionFromForm } from './decision-form.js';
import { CSRF_REFUSED, crossOriginProblem, csrfOk } from './csrf.js';
import { decodeSegment, HttpError, readForm } from './http.js';
import { albOidcVerifier, IdentityResolver, tokensAllowed, type AlbOidcSettings } from './identity.js';
import { renderIncident, webRoutes, type Route } from './web-routes.js';
import type { ServerDeps } from './server.js';

export interface EmailRouteOptions {
  /** The HMAC key the links were signed with (≥ 32 bytes). */
  readonly secret: string | Buffer;
  /** With ALB OIDC configured, the signed-in person must be the approver the link was sent to. */
  readonly identity?: IdentityResolver;
}

/** The email page's CSRF token is bound to the link it was opened with. */
const linkBinding = (claims: EmailLinkClaims): string => `email-link:${claims.jti}`;

function linkError(err: unknown): never {
  if (err instanceof EmailLinkError) throw new HttpError(err.status, err.message);
  throw err;
}

/**
 * Email links: `GET /email/<incident>?t=<token>` shows the incident with a confirmation form and changes
 * nothing (mail scanners follow links; some run scripts, and the page has none). `POST /email/<incident>`
 * decides, once: it needs the page's CSRF token, the signed token for this incident and runbook version,
 * the "I reviewed" box ticked, and, behind an ALB, the signed-in approver the link was sent to.
 */
export function emailRoutes(deps: ServerDeps, opts: EmailRouteOptions): Route {
  const uses = new EmailLinkUses(deps.store);
  return async (req, res, path, url) => {
    const m = /^\/email\/([^/]+)$/.exec(path);
    if (!m) return false;
    const id = decodeSegment(m[1] ?? '');
    if (req.method === 'GET') {
      await showLink(deps, uses, req, res, id, url.searchParams.get('t'));
      return true;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'open the link (GET) to review; decide with the form (POST)');
    await decideByLink(deps, uses, opts, req, res, id);
    return true;
  };

  async function showLink(deps: ServerDeps, uses: EmailLinkUses, req: IncomingMessage, res: ServerResponse, id: string, token: string | null): Promise<void> {
    let claims: EmailLinkClaims;
    try {
      claims = verifyEmailLinkToken(opts.secret, token, { incidentId: id, now: deps.clock.now() });
    } catch (err) {
      linkError(err);
    }
    const inc = await deps.store.getIncident(id);
    if (!inc) throw new HttpError(404, `no incident ${id}`);
    const used = await uses.usedAt(claims.jti);
    if (used) return renderIncident(deps, req, res, id, { notice: `This link was already used (${used.verdict}). Each link decides once; the page shows where things stand.`, status: 409, hideForm: true });
    if (inc.state !== 'awaiting_approval') return renderIncident(deps, req, res, id, { notice: `Nothing to decide: the incident is ${inc.state}.` });
    try {
      expectRunbook(claims, inc.approval?.runbookHash);
    } catch (err) {
      if (!(err instanceof EmailLinkError)) throw err;
      return renderIncident(deps, req, res, id, { notice: err.message, status: err.status });
    }
    if (opts.identity) {
      const who = await opts.identity.fromAlb(req);
      if (who && who.approver !== claims.ap) throw new HttpError(403, `this link was sent to ${claims.ap}, but you are signed in as ${who.approver}`);
    }
    await renderIncident(deps, req, res, id, {
      notice: `Review the runbook below. Opening this link decided nothing.`,
      form: { kind: 'email', token: token ?? '', approver: claims.ap, linkExpiresAt: claims.exp },
      csrfBinding: linkBinding(claims),
    });
  }

  async function decideByLink(deps: ServerDeps, uses: EmailLinkUses, o: EmailRouteOptions, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const form = await readForm(req);
    // A cross-site post learns nothing about the link: the origin verdict comes first.
    const crossSite = crossOriginProblem(req);
    if (crossSite) throw new HttpError(403, `${CSRF_REFUSED} (${crossSite})`);
    let claims: EmailLinkClaims;
    try {
      claims = verifyEmailLinkToken(o.secret, form.get('t'), { incidentId: id, now: deps.clock.now() });
    } catch (err) {
      linkError(err);
    }
    const inc = await deps.store.getIncident(id);
    if (!inc) throw new HttpError(404, `no incident ${id}`);
    try {
      expectRunbook(claims, inc.approval?.runbookHash);
    } catch (err) {
      linkError(err);
    }
    const shownHash = form.get('runbookHash');
    if (shownHash !== null && shownHash !== claims.rh) throw new HttpError(409, 'the form and the link name different runbook versions; reload the link. Nothing was recorded');
    let identity = `email-link:${claims.ap}`;
    if (o.identity?.oidcEnabled) {
      const who = await o.identity.fromAlb(req);
      if (!who) throw new HttpError(401, 'sign in through the load balancer first; nothing was recorded');
      if (who.approver !== claims.ap) throw new HttpError(403, `this link was sent to ${claims.ap}, but you are signed in as ${who.approver}; nothing was recorded`);
      identity = `${who.identity}+email-link`;
    }
    // Every refusal above records nothing either; the CSRF token, bound to this link, is checked last.
    if (!csrfOk(req, form.get('csrf'), linkBinding(claims))) throw new HttpError(403, CSRF_REFUSED);
    const { verdict, reason } = decisionFromForm(form);
    try {
      await uses.claim(claims, { at: deps.clock.now(), incidentId: id, approver: claims.ap, verdict });
    } catch (err) {
      linkError(err);
    }
    deps.logger.info({ stage: 'email-link', incidentId: id, approver: claims.ap, verdict }, 'email link used');
    try {
      const out = await deps.watcher.decide({ incidentId: id, approver: claims.ap, verdict, runbookHash: claims.rh, channel: 'email', identity, ...(reason ? { reason } : {}) });
      await renderIncident(deps, req, res, id, { notice: `${claims.ap}: ${verdict} recorded (${out.outcome}). This link is now used.`, hideForm: true });
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      await renderIncident(deps, req, res, id, { notice: `Not recorded: ${err.message} (this link is now used)`, status: err.status, hideForm: true });
    }
  }
}

export interface ApprovalWebOptions {
  /** The email-link signing secret; null or undefined: no /email routes. */
  readonly linkSecret?: string | Buffer | null;
  /** ALB OIDC settings; null or undefined: approver tokens (and email links) identify. */
  readonly alb?: AlbOidcSettings | null;
  /** Tests: serves the ALB public key locally instead of fetching it. */
  readonly jwksCache?: JwksCache;
}

/**
 * The extra routes for `createHttpServer({ ..., extraRoutes })`: email links (when a secret is given) and
 * the web pages with ALB OIDC identity (when configured). Throws at startup on a secret under 32 bytes.
 */
export function approvalWebRoutes(deps: ServerDeps, o: ApprovalWebOptions): Route[] {
  const identity = new IdentityResolver(deps.policy.doc.approvers, o.alb ? albOidcVerifier(o.alb, o.jwksCache) : null, tokensAllowed(o.alb));
  const routes: Route[] = [];
  if (o.linkSecret !== undefined && o.linkSecret !== null) routes.push(emailRoutes(deps, { secret: checkLinkSecret(o.linkSecret), identity }));
  routes.push(webRoutes(deps, { identity }));
  return routes;
}
