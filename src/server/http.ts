import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP error with a status and a message safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Reads the raw body, refusing more than `limit` bytes (413). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower-cased, and its parameters. */
export function mediaType(header: string | undefined): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = (header ?? '').split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const i = p.indexOf('=');
    params.set((i < 0 ? p : p.slice(0, i)).trim().toLowerCase(), i < 0 ? '' : p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  }
  return { type: type.trim().toLowerCase(), params };
}

/**
 * The JSON body. The Content-Type must be exactly `application/json` (a `charset=utf-8` parameter
 * allowed, nothing else): `text/plain; x=application/json` and form bodies are what a cross-site page
 * can send without a preflight, so they are refused (415).
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const { type, params } = mediaType(req.headers['content-type']);
  const charset = params.get('charset');
  const onlyCharset = params.size === 0 || (params.size === 1 && (charset === 'utf-8' || charset === 'utf8'));
  if (type !== 'application/json' || !onlyCharset) throw new HttpError(415, 'expected Content-Type: application/json');
  const body = await readBody(req);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (mediaType(req.headers['content-type']).type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'expected a form post');
  return new URLSearchParams((await readBody(req)).toString('utf8'));
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on our own form posts,
  // and the CSRF check needs the real Origin. Other sites still get no Referer.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
  res.end(JSON.stringify(value));
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    // script-src and connect-src 'self': the page's live update (/assets/live.js polling /api/…).
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(html);
}

/** A %-encoded path segment, decoded; a malformed escape is the client's error (400), not ours. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'the path has a malformed %-escape');
  }
}

/** The request's cookies. A value with a malformed %-escape is kept as sent (it matches nothing we set). */
export function parseCookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const raw = part.slice(i + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      value = raw;
    }
    out[part.slice(0, i).trim()] = value;
  }
  return out;
}

export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1] ?? null;
}
