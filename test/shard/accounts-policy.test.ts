import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compilePolicy } from '../../src/policy/compile.js';
import { parsePolicy, PolicyInvalidError } from '../../src/policy/load.js';

const DEMO = 'config/demo.yaml';
const demoDoc = (): Record<string, any> => parse(readFileSync(DEMO, 'utf8')) as Record<string, any>;
const ROLE_A = 'arn:aws:iam::111111111111:role/cloudops-watcher';
const ROLE_B = 'arn:aws:iam::222222222222:role/cloudops-watcher';

/** The demo policy with `edit` applied, parsed as `cloudops validate` would. */
function policyWith(edit: (doc: Record<string, any>) => void) {
  const doc = demoDoc();
  edit(doc);
  return parsePolicy(stringify(doc), DEMO);
}

/** The messages (path: message) a bad edit is refused with. */
function problems(edit: (doc: Record<string, any>) => void): string[] {
  try {
    policyWith(edit);
  } catch (err) {
    if (err instanceof PolicyInvalidError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  throw new Error('the policy was accepted');
}

const twoAccounts = (doc: Record<string, any>): void => {
  doc.accounts = [
    { name: 'shop', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], roleArn: ROLE_A, externalId: 'cloudops-shop', services: ['checkout'] },
    { name: 'pay', id: '222222222222', regions: ['eu-west-1'], roleArn: ROLE_B, services: ['payments'] },
  ];
};

describe('policy accounts (issue 16 item 5)', () => {
  it('without accounts, the single account is the only shard, holding every service under the leader lease', () => {
    const p = compilePolicy(policyWith(() => undefined), DEMO);
    expect(p.shards).toHaveLength(1);
    expect(p.shards[0]).toMatchObject({ key: 'demo/us-east-1', lease: null, region: 'us-east-1', services: ['checkout', 'payments'], account: { name: 'demo', id: null, roleArn: null } });
    expect(p.shards[0]?.metrics.map((m) => m.id)).toEqual(p.metrics.map((m) => m.id));
  });

  it('compiles one shard per account and region, with that account\'s services, metrics, role and stable lease names', () => {
    const p = compilePolicy(policyWith(twoAccounts), DEMO);
    expect(p.shards.map((s) => [s.key, s.lease, s.services, s.metrics.map((m) => m.id)])).toEqual([
      ['shop/eu-west-1', 'shard:111111111111:eu-west-1:0', ['checkout'], ['checkout5xx', 'checkoutLatencyP99']],
      ['shop/us-east-1', 'shard:111111111111:us-east-1:0', ['checkout'], ['checkout5xx', 'checkoutLatencyP99']],
      ['pay/eu-west-1', 'shard:222222222222:eu-west-1:0', ['payments'], ['paymentsCpu']],
    ]);
    expect(p.shards[0]?.account).toEqual({ name: 'shop', id: '111111111111', roleArn: ROLE_A, externalId: 'cloudops-shop', scenarioFile: null });
  });

  it("'all' holds every service; an account's scenario resolves against the policy file", () => {
    const p = compilePolicy(policyWith((d) => (d.accounts = [{ name: 'one', id: '111111111111', regions: ['eu-west-1'], services: 'all', scenario: 'scenarios/demo.yaml' }])), DEMO);
    expect(p.shards[0]?.services).toEqual(['checkout', 'payments']);
    expect(p.shards[0]?.account.scenarioFile).toMatch(/config\/scenarios\/demo\.yaml$/);
    expect(p.shards[0]?.account.roleArn).toBeNull();
  });

  it('refuses an unknown service, a duplicate account, a service in two accounts and a service in none, each with its path', () => {
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['eu-west-1'], services: ['checkout', 'chekout', 'payments'] }]))).toEqual([
      'accounts.0.services.1: unknown service "chekout" (known: checkout, payments)',
    ]);
    expect(problems((d) => (d.accounts = [
      { name: 'a', id: '111111111111', regions: ['eu-west-1'], services: ['checkout'] },
      { name: 'a', id: '222222222222', regions: ['eu-west-1'], services: ['payments'] },
    ]))).toEqual(['accounts.1.name: duplicate account "a" (also accounts.0.name)']);
    expect(problems((d) => (d.accounts = [
      { name: 'a', id: '111111111111', regions: ['eu-west-1'], services: 'all' },
      { name: 'b', id: '222222222222', regions: ['eu-west-1'], services: ['payments'] },
    ]))).toEqual(['accounts.1.services.0: service "payments" is also held by account "a": a service belongs to one account (one shard per region acts on it)']);
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['eu-west-1'], services: ['checkout'] }]))).toEqual([
      'services.payments: service "payments" is in no account\'s services: nothing would watch it',
    ]);
  });

  it('refuses a malformed account id, a role in another account, an external id without a role and a region twice', () => {
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '1234', regions: ['eu-west-1'], services: 'all' }]))).toEqual(['accounts.0.id: expected a 12-digit AWS account id']);
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['eu-west-1', 'eu-west-1'], roleArn: ROLE_B, services: 'all' }]))).toEqual([
      'accounts.0.regions.1: region eu-west-1 is listed twice',
      'accounts.0.roleArn: the role is in account 222222222222, not in this account (111111111111)',
    ]);
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['eu-west-1'], externalId: 'x-1', services: 'all' }]))).toEqual(['accounts.0.externalId: an external id needs a roleArn to assume']);
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['eu-west-1'], roleArn: 'arn:aws:iam::111111111111:role/admin', services: 'all' }]))).toEqual([
      'accounts.0.roleArn: the role name must start with cloudops- (iam-policy.json lets the task assume only those), got "admin"',
    ]);
    expect(problems((d) => (d.accounts = [{ name: 'a', id: '111111111111', regions: ['mars-1'], services: 'all' }]))).toEqual(['accounts.0.regions.0: expected an AWS region such as eu-west-1']);
  });
});
