import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, PolicyInvalidError } from '../../src/policy/load.js';
import { loadRunnablePolicy } from '../../src/policy/validate.js';

const DIR = 'test/fixtures/policies/bad';

/**
 * Every bad fixture with the exact message `cloudops validate` prints for it. A message starting with a
 * line number is in the fixture itself; one starting with `test/` names the runbook file at fault.
 */
const EXPECTED: Record<string, string[]> = {
  'bad-action-name': ['26:5: actions.rollback: expected service.action, e.g. codepipeline.rollback'],
  'bad-cloud-kind': ["3:16: cloud.kind: Invalid discriminator value. Expected 'sim' | 'aws'"],
  'bad-cron': ['4:19: schedule.cron: invalid cron expression "every minute"'],
  'bad-duration': ['20:8: approval.ttl: expected a duration such as 30s, 5m, 2h, 1d'],
  'bad-metric-id': ['9:9: metrics.0.id: expected an id that starts with a lowercase letter (letters, digits, _), as CloudWatch requires'],
  'bad-period': ['14:13: metrics.0.period: expected 1, 5, 10, 30 or a multiple of 60 seconds'],
  'bad-regex-param': ['28:28: actions.codepipeline.rollback.params.pipeline.pattern: invalid regular expression "[A-Za-z0-9_-+"'],
  'bad-region': ['2:37: account.region: expected an AWS region such as eu-west-1'],
  'bad-risk': ['26:11: actions.codepipeline.rollback.risk: Invalid option: expected one of "low"|"medium"|"high"'],
  'band-on-sim': ["14:23: metrics.0.detector.kind: 'cloudwatchBand' needs cloud.kind: aws (CloudWatch computes the band)"],
  'bad-stat': ['13:11: metrics.0.stat: expected a CloudWatch statistic such as Average, Sum, p99 or TM(10%:90%)'],
  'duplicate-key': ['17:3: (root): YAML: Map keys must be unique'],
  'group-unknown-approver': ['18:24: groups.oncall.2: unknown approver "mallory"'],
  'metric-without-source': ['9:5: metrics.0: a metric needs namespace and metricName, or an expression'],
  'missing-quorum-level': ['21:5: approval.quorum.medium: required (object)'],
  'plaintext-token': ['15:51: approvers.alice.tokenSha256: expected the hex sha256 of the approver token (never the token itself)'],
  'quorum-too-large': ['23:24: approval.quorum.high.approvals: needs 3 distinct approvals but only 2 approver(s) can give one'],
  'unknown-metric-key': ['14:5: metrics.0.treshold: unknown key "treshold"'],
  'unknown-quorum-member': ['23:42: approval.quorum.high.from.1: unknown approver or group "sre-leads"'],
  'unknown-service': ['6:5: services.checkout: service "checkout" has no metric watching it', '10:14: metrics.0.service: unknown service "chekout" (known: checkout)'],
  'unknown-top-key': ['2:1: retention: unknown key "retention"'],
  'wrong-version': ['1:10: version: Invalid input: expected 1'],
  'yaml-syntax': ['18:11: groups.oncall: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  'aws-no-ttl': ['20:3: approval.ttl: required for cloud.kind: aws (write it out; a default here could weaken safety)'],
  'aws-truncated-safety': ['31:3: safety.killSwitchParameter: required for cloud.kind: aws (write it out; a default here could weaken safety; null = no SSM kill switch)', '31:3: safety.maxActionsPerHour: required for cloud.kind: aws (write it out; a default here could weaken safety)'],
  'demo-token-on-aws': ['16:47: approvers.bob.tokenSha256: this is the hash of the public demo token "demo-token-bob"; make a new one with `cloudops token`'],
  'duplicate-email': ['16:17: approvers.bob.email: email Alice@Example.com is also approver "alice"'],
  'duplicate-slack-id': ['16:47: approvers.bob.slackUserId: Slack user U012AB3CD is also approver "alice"'],
  'duplicate-token-hash': ['16:47: approvers.bob.tokenSha256: token hash is also approver "alice"'],
  'runbook-folder-missing': ['34:18: runbooks.dir: runbook folder "test/fixtures/policies/bad/no-such-runbooks" does not exist'],
  'runbook-missing-param': ['test/fixtures/policies/runbooks/rollback.md:10:7: steps.0.params.stage: parameter "stage" is required for codepipeline.rollback'],
  'runbook-unknown-action': ['test/fixtures/policies/bad/runbook-unknown-action.d/delete-service.md:9:13: steps.1.action: action "ecs.deleteService" is not allow-listed in the policy'],
  'ttl-absurd': ['20:8: approval.ttl: expected a duration between 1m and 7d'],
  'ttl-before-escalation': ['21:24: approval.escalation.after: escalation after 15m is not before the ttl (15m): it would never happen'],
  'ttl-before-reminder': ['21:19: approval.reminders.1: reminder at 20m is not before the ttl (15m): it would never be sent'],
  'ttl-zero': ['20:8: approval.ttl: expected a duration between 1m and 7d'],
  'yaml-alias-bomb': ['3:11: (root): YAML: Excessive alias count indicates a resource exhaustion attack'],
  'yaml-undefined-alias': ['18:11: (root): YAML: Unresolved alias (the anchor must be set before the alias): approvers'],
};

describe('bad policy fixtures', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();

  it('every fixture has a pinned message and every pinned message has a fixture (at least 15)', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s fails with its exact FILE:LINE:COL: path: message', (name) => {
    const file = `${DIR}/${name}.yaml`;
    let caught: unknown;
    try {
      loadRunnablePolicy(file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyInvalidError);
    expect((caught as Error).message.split('\n')).toEqual((EXPECTED[name] ?? []).map((m) => (m.startsWith('test/') ? m : `${file}:${m}`)));
  });

  it('the valid base of the fixtures passes, runbooks included', () => {
    expect(loadPolicyFile('test/fixtures/policies/valid.yaml').policy.account.name).toBe('shop-prod');
    expect(loadRunnablePolicy('test/fixtures/policies/valid.yaml').templates.map((t) => t.id)).toEqual(['rollback']);
  });

  it('cloudops validate prints the errors on stderr and exits 2', () => {
    const file = `${DIR}/unknown-top-key.yaml`;
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(2);
    expect(stderr.trim()).toBe(`${file}:2:1: retention: unknown key "retention"`);
  });
});
