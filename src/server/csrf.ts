import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError, parseCookies } from './http.js';

/**
 * CSRF defence for the decision forms, three layers deep:
 * 1. Origin (or, without one, Referer) must name this host. A browser always sends Origin on a cross-site
 *    POST, and "null" (sandboxed frames, opaque origins) is refused. A request with neither header comes
 *    from no browser, so it cannot be a forged cross-site one; the next layers still apply to it.
 * 2. A `__Host-` cookie: Secure, Path=/, no Domain, so a sibling subdomain cannot plant or overwrite it.
 * 3. The form's token is an HMAC of that cookie and the session it was shown to (the signed-in identity,
 *    the email link), under a key that never leaves the process: a token copied from one session does not
 *    work in another, and the cookie alone is not the token.
 */
export const CSRF_COOKIE = '__Host-cloudops_csrf';

export const CSRF_REFUSED = 'the form expired or did not come from this page (CSRF check failed); reload the page. Nothing was recorded';

/** Per-process key: a restart invalidates open forms (reload the page), which is the safe direction. */
const KEY = randomBytes(32);

const COOKIE_SHAPE = /^[A-Za-z0-9_-]{32,64}$/;

function formToken(cookie: string, binding: string): string {
  return createHmac('sha256', KEY).update(`${cookie}\n${binding}`).digest('base64url');
}

/** The form token for this request's cookie and `binding`, and a Set-Cookie when the cookie is new. */
export function csrfFor(req: IncomingMessage, binding = ''): { token: string; setCookie: string | null } {
  const existing = parseCookies(req)[CSRF_COOKIE];
  if (existing && COOKIE_SHAPE.test(existing)) return { token: formToken(existing, binding), setCookie: null };
  const cookie = randomBytes(24).toString('base64url');
  // `__Host-` requires Secure; browsers accept it over plain HTTP only on localhost (the demo), otherwise
  // the pages are served over HTTPS (the ALB).
  return { token: formToken(cookie, binding), setCookie: `${CSRF_COOKIE}=${cookie}; Path=/; Secure; HttpOnly; SameSite=Strict` };
}

/** The submitted form token matches this request's cookie under `binding` (constant-time). */
export function csrfOk(req: IncomingMessage, submitted: string | null, binding = ''): boolean {
  const cookie = parseCookies(req)[CSRF_COOKIE];
  if (!cookie || !COOKIE_SHAPE.test(cookie) || !submitted) return false;
  const want = Buffer.from(formToken(cookie, binding));
  const got = Buffer.from(submitted);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Why the request's Origin/Referer is not this host, or null when it is (or neither is present). */
export function crossOriginProblem(req: IncomingMessage): string | null {
  const host = req.headers.host;
  const origin = req.headers.origin;
  const referer = req.headers.referer;
  const claimed = origin ?? referer;
  if (claimed === undefined) return null;
  if (!host) return 'the request names no Host';
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    return `${origin !== undefined ? 'Origin' : 'Referer'} "${claimed.slice(0, 100)}" is not this site`;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host.toLowerCase() !== host.toLowerCase()) {
    return `${origin !== undefined ? 'Origin' : 'Referer'} "${claimed.slice(0, 100)}" is not this site`;
  }
  return null;
}

/** Refuses (403) a state-changing form post that is cross-origin or lacks a valid CSRF token. */
export function requireSameOriginForm(req: IncomingMessage, submitted: string | null, binding = ''): void {
  const problem = crossOriginProblem(req);
  if (problem) throw new HttpError(403, `${CSRF_REFUSED} (${problem})`);
  if (!csrfOk(req, submitted, binding)) throw new HttpError(403, CSRF_REFUSED);
}
