import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import { AlbJwksCache } from 'aws-jwt-verify/alb-cache';
import { Registry } from 'prom-client';
import { afterAll, beforeAll } from 'vitest';
import { emailLinkFor } from '../../src/approval/email-notifier.js';
import type { Incident } from '../../src/incident/incident.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { approvalWebRoutes } from '../../src/server/email-routes.js';
import type { AlbOidcSettings } from '../../src/server/identity.js';
import { createHttpServer, listen, type ServerDeps } from '../../src/server/server.js';
import { rollingZScore } from '../../src/detect/rolling-zscore.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';

export const LINK_SECRET = 'test-link-secret-0123456789abcdef-0123456789';
export const ALB: AlbOidcSettings = {
  albArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/cloudops/50dc6c495c0c9188',
  issuer: 'https://idp.example.com',
  clientId: 'cloudops-client',
};

/** A locally generated ES256 key standing in for the ALB's signing key, served by a fake key fetcher. */
export interface AlbKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwksCache: AlbJwksCache;
  /** Key fetches made (the real one would go to public-keys.auth.elb.<region>.amazonaws.com). */
  readonly fetched: string[];
}

export function albKey(): AlbKey {
  const kid = randomUUID();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const fetched: string[] = [];
  const jwksCache = new AlbJwksCache({
    fetcher: {
      fetch: async (uri: string) => {
        fetched.push(uri);
        if (!uri.endsWith(`/${kid}`)) throw new Error(`no such key ${uri}`);
        const buf = Buffer.from(pem);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      },
    },
  });
  return { kid, privateKey, jwksCache, fetched };
}

const padded = (s: string, pad: boolean): string => (pad ? s + '='.repeat((4 - (s.length % 4)) % 4) : s);
const b64 = (v: unknown, pad: boolean): string => padded(Buffer.from(JSON.stringify(v)).toString('base64url'), pad);

export interface AlbJwtOptions {
  readonly email?: string;
  readonly expSeconds?: number;
  readonly signer?: string;
  readonly client?: string;
  readonly iss?: string;
  readonly kid?: string;
  readonly key?: KeyObject;
  readonly extra?: Record<string, unknown>;
  /** ALB pads its base64url segments with '='; default true, like the real thing. */
  readonly pad?: boolean;
}

/** An `x-amzn-oidc-data` JWT as the ALB makes it: ES256, header with signer/client/iss/exp. */
export function albJwt(k: AlbKey, o: AlbJwtOptions = {}): string {
  const exp = o.expSeconds ?? Math.floor(Date.now() / 1000) + 600;
  const iss = o.iss ?? ALB.issuer;
  const header = { typ: 'JWT', kid: o.kid ?? k.kid, alg: 'ES256', iss, client: o.client ?? ALB.clientId, signer: o.signer ?? ALB.albArn, exp };
  const payload = { sub: '1234567890', email: o.email ?? 'alice@example.com', exp, iss, ...o.extra };
  const pad = o.pad ?? true;
  const signingInput = `${b64(header, pad)}.${b64(payload, pad)}`;
  const sig = sign('sha256', Buffer.from(signingInput), { key: o.key ?? k.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${padded(sig.toString('base64url'), pad)}`;
}

export interface ApprovalServer {
  readonly h: Harness;
  readonly url: string;
  readonly deps: ServerDeps;
  readonly alb: AlbKey | null;
  /** The watcher behind the server (a fixed rolling z-score detector: these tests are about approvals). */
  readonly watcher: Watcher;
  /** Advances virtual time one poll at a time, running a cycle each, until `until` holds. */
  runUntil(until: (incs: Incident[]) => boolean, maxCycles?: number): Promise<Incident[]>;
  /** The first incident awaiting approval. */
  awaiting(): Promise<Incident>;
  /** The signed email link for `approver` on `inc`. */
  link(inc: Incident, approver: string): string;
  close(): Promise<void>;
}

/** The daemon's HTTP server on port 0 over the simulated cloud, with email links and (optionally) ALB OIDC. */
export async function approvalServer(o: { withAlb?: boolean; allowTokens?: boolean; edit?: (p: CompiledPolicy) => CompiledPolicy } = {}): Promise<ApprovalServer> {
  // With an ALB, the policy names it too (server.albOidc), as the daemon's does.
  const albPolicy = (p: CompiledPolicy): CompiledPolicy => (o.withAlb ? { ...p, doc: { ...p.doc, server: { ...p.doc.server, albOidc: { ...ALB, allowTokens: o.allowTokens ?? false } } } } : p);
  const h = simHarness('config/demo.yaml', (p) => albPolicy(o.edit ? o.edit(p) : p));
  const alb = o.withAlb ? albKey() : null;
  const watcher = new Watcher({ ...h.deps, detectorFor: (m) => rollingZScore({ window: 60, threshold: 4.5, direction: m.detector.direction, warmup: 30 }) });
  const runUntil = async (until: (incs: Incident[]) => boolean, maxCycles = 200): Promise<Incident[]> => {
    for (let i = 0; i < maxCycles; i++) {
      const incs = await h.store.listIncidents();
      if (until(incs)) return incs;
      h.clock.advance(h.policy.pollEveryMs);
      await watcher.runCycle();
    }
    throw new Error(`condition not reached after ${maxCycles} cycles; incidents: ${JSON.stringify((await h.store.listIncidents()).map((i) => [i.id, i.state, i.reason]))}`);
  };
  const base = {
    store: h.store,
    policy: h.policy,
    clock: h.clock,
    watcher,
    logger: h.deps.logger,
    registry: new Registry(),
    ready: () => ({ ok: true, why: 'test' }),
    approveCommand: (id: string, who: string) => `npm run cloudops -- approve ${id} --as ${who}`,
  };
  const deps: ServerDeps = { ...base, extraRoutes: approvalWebRoutes(base, { linkSecret: LINK_SECRET, alb: alb ? { ...ALB, allowTokens: o.allowTokens ?? false } : null, ...(alb ? { jwksCache: alb.jwksCache } : {}) }) };
  const server: Server = createHttpServer(deps);
  const port = await listen(server, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    h,
    url,
    deps,
    alb,
    watcher,
    runUntil,
    async awaiting() {
      const incs = await runUntil((all) => all.some((i) => i.state === 'awaiting_approval'));
      const inc = incs.find((i) => i.state === 'awaiting_approval');
      if (!inc) throw new Error('no incident awaiting approval');
      return inc;
    },
    link(inc, approver) {
      const l = emailLinkFor(inc, approver, { secret: LINK_SECRET, publicUrl: url, now: h.clock.now() });
      if (!l) throw new Error(`no link for ${approver} on ${inc.id}`);
      return l;
    },
    async close() {
      await watcher.drain();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await h.store.close();
    },
  };
}

/** Cookie header from a response's Set-Cookie. */
export function cookieFrom(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

/** The CSRF field value in a rendered page. */
export function csrfField(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field in the page');
  return m[1];
}

/**
 * For a test file about one proposal: the approval server on the demo with its incident awaiting
 * approval, handed to `use` before the file's tests (beforeAll) and closed after them (afterAll).
 */
export function withAwaitingIncident(use: (s: ApprovalServer, inc: Incident) => void, o: Parameters<typeof approvalServer>[0] = {}): void {
  let server: ApprovalServer | null = null;
  beforeAll(async () => {
    server = await approvalServer(o);
    use(server, await server.awaiting());
  });
  afterAll(async () => {
    await server?.close();
  });
}
