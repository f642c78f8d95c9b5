import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import { assumeRoleProvider, createShardPorts } from '../../src/cloud/aws/index.js';
import { motoUrl, resetMoto, signal, TEST_CREDENTIALS } from './helpers.js';

const ROLE_A = 'arn:aws:iam::111111111111:role/cloudops-watcher';
const ROLE_B = 'arn:aws:iam::222222222222:role/cloudops-watcher';

describe('STS AssumeRole against moto (issue 16 item 5)', () => {
  beforeAll(async () => {
    await resetMoto();
  });

  it('assumes the role with its external id: calls made with the credentials are the assumed role in the other account', async () => {
    const base = new STSClient({ region: 'us-east-1', endpoint: motoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const provider = assumeRoleProvider({ sts: base, roleArn: ROLE_B, externalId: 'cloudops-shop', sessionName: 'cloudops-test' });
    const creds = await provider();
    expect(creds.accessKeyId).not.toBe(TEST_CREDENTIALS.accessKeyId);
    expect(creds.sessionToken).toBeTruthy();
    expect(creds.expiration?.getTime()).toBeGreaterThan(Date.now());
    const asRole = new STSClient({ region: 'us-east-1', endpoint: motoUrl(), credentials: provider, maxAttempts: 1 });
    const who = await asRole.send(new GetCallerIdentityCommand({}), { abortSignal: signal() });
    expect(who.Account).toBe('222222222222');
    expect(who.Arn).toBe('arn:aws:sts::222222222222:assumed-role/cloudops-watcher/cloudops-test');
    base.destroy();
    asRole.destroy();
  });

  it('builds one set of clients per account and region, with one AssumeRole per account shared by its regions', async () => {
    const shards = createShardPorts(
      [
        { key: 'shop/eu-west-1', region: 'eu-west-1', roleArn: ROLE_A, externalId: 'x-shop' },
        { key: 'shop/us-east-1', region: 'us-east-1', roleArn: ROLE_A, externalId: 'x-shop' },
        { key: 'pay/eu-west-1', region: 'eu-west-1', roleArn: ROLE_B, externalId: null },
        { key: 'home/us-east-1', region: 'us-east-1', roleArn: null, externalId: null },
      ],
      { region: 'us-east-1', endpoint: motoUrl(), credentials: TEST_CREDENTIALS, maxAttempts: 1 },
    );
    try {
      expect(await shards.get('shop/eu-west-1').clients.cloudwatch.config.region()).toBe('eu-west-1');
      expect(await shards.get('pay/eu-west-1').clients.ecs.config.region()).toBe('eu-west-1');
      const shopEu = await shards.get('shop/eu-west-1').clients.cloudwatch.config.credentials();
      const shopUs = await shards.get('shop/us-east-1').clients.ssm.config.credentials();
      const pay = await shards.get('pay/eu-west-1').clients.cloudwatch.config.credentials();
      const home = await shards.get('home/us-east-1').clients.cloudwatch.config.credentials();
      expect(shopEu.accessKeyId).toBe(shopUs.accessKeyId);
      expect(pay.accessKeyId).not.toBe(shopEu.accessKeyId);
      expect(home.accessKeyId).toBe(TEST_CREDENTIALS.accessKeyId);
      expect([...shards.providers.values()].map((p) => p.calls())).toEqual([1, 1]);
      // The adapters really call with them: moto answers the assumed identity of each account.
      const payWho = new STSClient({ region: 'eu-west-1', endpoint: motoUrl(), credentials: pay, maxAttempts: 1 });
      expect((await payWho.send(new GetCallerIdentityCommand({}), { abortSignal: signal() })).Account).toBe('222222222222');
      payWho.destroy();
      expect(() => shards.get('nowhere/eu-west-1')).toThrow('no clients for shard nowhere/eu-west-1');
    } finally {
      shards.destroy();
    }
  });
});
