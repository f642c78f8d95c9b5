import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { HttpError } from '../../src/server/http.js';
import { albOidcVerifier, approverForEmail, IdentityResolver, OIDC_DATA_HEADER } from '../../src/server/identity.js';
import { ALB, albJwt, albKey } from '../server/approval-server.js';

const policy = compilePolicy(loadPolicyFile('config/demo.yaml').policy, 'config/demo.yaml');
const approvers = policy.doc.approvers;
const req = (headers: Record<string, string | string[]>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

async function refusal(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ALB OIDC identity (x-amzn-oidc-data, ES256, verified with AlbJwtVerifier and a local key)', () => {
  it('maps a valid ALB-signed JWT (padded segments, like the ALB) to the approver with that email', async () => {
    const k = albKey();
    const ids = new IdentityResolver(approvers, albOidcVerifier(ALB, k.jwksCache));
    const who = await ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { email: 'Bob@Example.com' }) }));
    expect(who).toEqual({ approver: 'bob', identity: 'oidc:bob@example.com', via: 'alb-oidc' });
    expect(k.fetched).toEqual([`https://public-keys.auth.elb.us-east-1.amazonaws.com/${k.kid}`]);
    // Unpadded works too.
    expect((await ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { pad: false }) })))?.approver).toBe('alice');
  });

  it('refuses a JWT signed by another key, with another kid, an unsigned one, or garbage (401)', async () => {
    const k = albKey();
    const ids = new IdentityResolver(approvers, albOidcVerifier(ALB, k.jwksCache));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = albJwt(k, { key: other });
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: forged })))).status).toBe(401);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { kid: '11111111-2222-4333-8444-555555555555' }) })))).status).toBe(401);
    const [h, p] = albJwt(k).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: k.kid, signer: ALB.albArn, client: ALB.clientId })).toString('base64url')}.${p}.`;
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: none })))).status).toBe(401);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: `${h}.${p}` })))).status).toBe(401);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: 'not-a-jwt' })))).status).toBe(401);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: 'x'.repeat(20_000) })))).message).toMatch(/malformed/);
  });

  it('refuses another ALB (signer), another client, another issuer, and an expired token (401)', async () => {
    const k = albKey();
    const ids = new IdentityResolver(approvers, albOidcVerifier(ALB, k.jwksCache));
    const cases = [
      albJwt(k, { signer: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/1111' }),
      albJwt(k, { client: 'someone-else' }),
      albJwt(k, { iss: 'https://evil.example.com' }),
      albJwt(k, { expSeconds: Math.floor(Date.now() / 1000) - 3600 }),
    ];
    for (const jwt of cases) {
      const r = await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: jwt })));
      expect(r.status).toBe(401);
      expect(r.message).toMatch(/did not verify/);
    }
  });

  it('a verified person who is not an approver, has no email, or an unverified email is refused (403)', async () => {
    const k = albKey();
    const ids = new IdentityResolver(approvers, albOidcVerifier(ALB, k.jwksCache));
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { email: 'mallory@example.com' }) })))).message).toMatch(/not an approver/);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { extra: { email_verified: false } }) })))).status).toBe(403);
    expect((await refusal(ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k, { email: '' }) })))).status).toBe(403);
  });

  it('without ALB settings the header is ignored (never trusted); approver tokens still identify', async () => {
    const k = albKey();
    const ids = new IdentityResolver(approvers, null);
    expect(await ids.fromAlb(req({ [OIDC_DATA_HEADER]: albJwt(k) }))).toBeNull();
    expect(ids.fromToken('demo-token-carol')).toEqual({ approver: 'carol', identity: 'token:carol', via: 'token' });
    expect(ids.fromToken('demo-token-nobody')).toBeNull();
    expect(ids.fromToken(null)).toBeNull();
    expect(await new IdentityResolver(approvers, albOidcVerifier(ALB, k.jwksCache)).fromAlb(req({}))).toBeNull();
  });

  it('approverForEmail is case-insensitive and exact', () => {
    expect(approverForEmail(approvers, ' ALICE@example.com ')).toBe('alice');
    expect(approverForEmail(approvers, 'alice@example.com.evil')).toBeNull();
    expect(approverForEmail(approvers, '')).toBeNull();
  });
});
