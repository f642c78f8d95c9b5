import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AssumeRoleError, assumeRoleProvider } from '../../src/cloud/aws/assume-role.js';

// Refresh timing and failure paths a server cannot provoke on demand: aws-sdk-client-mock at the command level.
const ROLE = 'arn:aws:iam::222222222222:role/cloudops-watcher';
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-02T08:00:00Z');

const answer = (key: string, expiresAt: number) => ({ Credentials: { AccessKeyId: key, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(expiresAt) } });

describe('assumed-role credentials: cache, refresh before expiry, deadline', () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());

  it('assumes once, passes the external id, and assumes again only within 5 minutes of the expiry', async () => {
    let now = T0;
    sts.on(AssumeRoleCommand).resolvesOnce(answer('AK1', T0 + HOUR)).resolvesOnce(answer('AK2', T0 + 2 * HOUR));
    const p = assumeRoleProvider({ sts: new STSClient({ region: 'us-east-1' }), roleArn: ROLE, externalId: 'ext-1', now: () => now });
    expect((await p()).accessKeyId).toBe('AK1');
    now = T0 + HOUR - 5 * 60_000 - 1;
    expect((await p()).accessKeyId).toBe('AK1');
    expect(p.calls()).toBe(1);
    now = T0 + HOUR - 5 * 60_000;
    expect((await p()).accessKeyId).toBe('AK2');
    expect(p.calls()).toBe(2);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({ RoleArn: ROLE, RoleSessionName: 'cloudops-watcher', DurationSeconds: 3600, ExternalId: 'ext-1' });
  });

  it('callers asking at the same time share one AssumeRole call', async () => {
    sts.on(AssumeRoleCommand).resolves(answer('AK1', Date.now() + HOUR));
    const p = assumeRoleProvider({ sts: new STSClient({ region: 'us-east-1' }), roleArn: ROLE });
    const all = await Promise.all([p(), p(), p()]);
    expect(all.map((c) => c.accessKeyId)).toEqual(['AK1', 'AK1', 'AK1']);
    expect(p.calls()).toBe(1);
  });

  it('a failed early refresh keeps the session that still works; once it has expired the failure is an AssumeRoleError', async () => {
    let now = T0;
    sts.on(AssumeRoleCommand).resolvesOnce(answer('AK1', T0 + HOUR)).rejects(new Error('AccessDenied: not authorized to perform sts:AssumeRole'));
    const p = assumeRoleProvider({ sts: new STSClient({ region: 'us-east-1' }), roleArn: ROLE, now: () => now });
    await p();
    now = T0 + HOUR - 60_000;
    expect((await p()).accessKeyId).toBe('AK1');
    now = T0 + HOUR;
    const err = await p().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssumeRoleError);
    expect((err as Error).message).toBe(`cannot assume role ${ROLE}: AccessDenied: not authorized to perform sts:AssumeRole`);
  });

  it('an STS call that never answers is abandoned at its deadline', async () => {
    sts.on(AssumeRoleCommand).callsFake(() => new Promise(() => undefined));
    const p = assumeRoleProvider({ sts: new STSClient({ region: 'us-east-1' }), roleArn: ROLE, timeoutMs: 150 });
    const started = performance.now();
    await expect(p()).rejects.toThrow(`cannot assume role ${ROLE}: no answer within 150 ms`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('an answer without complete credentials is refused, and bad options fail before any call', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AK', SecretAccessKey: undefined as unknown as string, SessionToken: 't', Expiration: new Date() } });
    const p = assumeRoleProvider({ sts: new STSClient({ region: 'us-east-1' }), roleArn: ROLE });
    await expect(p()).rejects.toThrow('the answer has no complete credentials');
    const sts2 = new STSClient({ region: 'us-east-1' });
    expect(() => assumeRoleProvider({ sts: sts2, roleArn: ROLE, durationSeconds: 60 })).toThrow('durationSeconds must be an integer 900..43200, got 60');
    expect(() => assumeRoleProvider({ sts: sts2, roleArn: ROLE, sessionName: 'has space' })).toThrow('session name must be');
    expect(() => assumeRoleProvider({ sts: sts2, roleArn: ROLE, durationSeconds: 900, refreshBeforeMs: 900_000 })).toThrow('refreshBeforeMs must be in [0, 900000)');
  });
});
