import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { startCodePipelineStub, type CodePipelineStub, type StubExecution } from './codepipeline-stub.js';
import { motoUrl, portsAt, resetMoto } from './helpers.js';

/**
 * The daemon, unchanged, for real cycles against moto + the CodePipeline stub (one endpoint from
 * AWS_ENDPOINT_URL): metrics put with PutMetricData, an error burst in a log group, a deployment in
 * the stub → one incident naming that deployment, with log evidence, awaiting approval, nothing run.
 */

const MIN = 60_000;
const RUNBOOKS = join(import.meta.dirname, '..', '..', 'runbooks');

function policyYaml(): string {
  return `
version: 1
account: { name: moto, region: us-east-1 }
cloud: { kind: aws }
schedule: { cron: "0 0 1 1 *", window: 1h }
server: { host: 127.0.0.1, port: 0 }
store: { kind: sqlite, path: state/cloudops.db }
services:
  checkout: { pipelines: [checkout-deploy], logGroups: [/ecs/checkout] }
  payments: { pipelines: [payments-deploy], logGroups: [/ecs/payments] }
metrics:
  - id: checkout5xx
    service: checkout
    namespace: Shop
    metricName: Errors5xx
    dimensions: { Service: checkout }
    stat: Sum
    period: 60
    detector: { direction: up }
  - id: paymentsCpu
    service: payments
    namespace: AWS/ECS
    metricName: CPUUtilization
    dimensions: { ClusterName: prod, ServiceName: payments }
    detector: { direction: up }
detection: { minDuration: 2, warmup: 20 }
grouping: { groupWait: 1s, groupInterval: 10m, clearAfter: 5m }
correlation: { lookback: 2h }
approvers:
  alice: { tokenSha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }
approval:
  ttl: 15m
  quorum:
    low: { approvals: 1, from: [alice] }
    medium: { approvals: 1, from: [alice] }
    high: { approvals: 1, from: [alice] }
actions:
  codepipeline.rollback:
    risk: medium
    params:
      pipeline: { pattern: "[A-Za-z0-9.@_-]{1,100}" }
      stage: { pattern: "[A-Za-z0-9.@_-]{1,100}" }
      targetExecutionId: { pattern: "[A-Za-z0-9-]{1,100}" }
  ecs.forceNewDeployment:
    risk: low
    params:
      service: { pattern: "[A-Za-z0-9_-]{1,255}" }
      cluster: { required: false, pattern: "[A-Za-z0-9_-]{1,255}" }
runbooks: { dir: ${JSON.stringify(RUNBOOKS)} }
safety: { killSwitch: false, killSwitchParameter: null, maxActionsPerHour: 5 }
notify: { console: false }
`;
}

function execution(id: string, deployEnd: number, revision: string): StubExecution {
  const start = deployEnd - 12 * MIN;
  return {
    pipelineExecutionId: id,
    status: 'Succeeded',
    startTime: start,
    lastUpdateTime: deployEnd,
    trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/dev/dana' },
    sourceRevisions: [{ actionName: 'Source', revisionId: revision, revisionSummary: `release ${revision}` }],
    actions: [
      { stageName: 'Source', actionName: 'Source', category: 'Source', startTime: start, lastUpdateTime: start + MIN, status: 'Succeeded' },
      { stageName: 'Build', actionName: 'Build', category: 'Build', startTime: start + MIN, lastUpdateTime: start + 8 * MIN, status: 'Succeeded' },
      { stageName: 'Prod', actionName: 'DeployEcs', category: 'Deploy', startTime: start + 9 * MIN, lastUpdateTime: deployEnd, status: 'Succeeded' },
    ],
  };
}

describe('the daemon on real adapters against moto and the CodePipeline stub', () => {
  let stub: CodePipelineStub;
  let daemon: Daemon | undefined;
  let dir: string;
  const saved = { ...process.env };
  const now = Math.floor(Date.now() / MIN) * MIN;

  beforeAll(async () => {
    await resetMoto();
    stub = await startCodePipelineStub({ forwardTo: motoUrl() });
    Object.assign(process.env, { AWS_ENDPOINT_URL: stub.url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
    delete process.env['AWS_PROFILE'];

    const p = portsAt(motoUrl());
    // An hour of ~3 errors a minute, then from 8 minutes ago about 60 a minute.
    const data: MetricDatum[] = [];
    for (let m = 68; m >= 1; m--) {
      const t = now - m * MIN;
      data.push({ MetricName: 'Errors5xx', Dimensions: [{ Name: 'Service', Value: 'checkout' }], Timestamp: new Date(t), Value: m <= 8 ? 60 + (m % 3) : 3 + (m % 4) * 0.5, Unit: 'Count' });
    }
    for (let i = 0; i < data.length; i += 20) await p.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: data.slice(i, i + 20) }));

    for (const group of ['/ecs/checkout', '/ecs/payments']) {
      await p.clients.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
      await p.clients.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'task-1' }));
    }
    const events: { timestamp: number; message: string }[] = [];
    for (let m = 40; m >= 1; m--) {
      events.push({ timestamp: now - m * MIN, message: `GET /cart/${1000 + m} 200 ${20 + m}ms` });
      if (m <= 8) for (let k = 0; k < 5; k++) events.push({ timestamp: now - m * MIN + k * 1000, message: `ERROR PaymentClient timeout after 3000ms order=${5000 + m * 10 + k}` });
    }
    await p.clients.logs.send(new PutLogEventsCommand({ logGroupName: '/ecs/checkout', logStreamName: 'task-1', logEvents: events }));
    p.clients.destroy();

    stub.addPipeline({ name: 'checkout-deploy', pipelineType: 'V2', stages: ['Source', 'Build', 'Prod'], executions: [execution('bad-release', now - 10 * MIN, 'c0ffee1'), execution('good-release', now - 3 * 24 * 60 * MIN, 'a11ce00')] });
    stub.addPipeline({ name: 'payments-deploy', pipelineType: 'V2', stages: ['Source', 'Build', 'Prod'], executions: [execution('payments-release', now - 9 * MIN, 'beef001')] });

    dir = mkdtempSync(join(tmpdir(), 'cloudops-aws-'));
    writeFileSync(join(dir, 'policy.yaml'), policyYaml());
  });

  afterAll(async () => {
    await daemon?.stop();
    await stub.close();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens one incident that names the checkout deployment, shows the error burst, and runs nothing', async () => {
    daemon = await startDaemon({ policyFile: join(dir, 'policy.yaml'), dataDir: dir, logger: pino({ level: 'silent' }) });
    // The first cycle ran inside startDaemon; group_wait is 1 s, so the next cycle proposes.
    for (let i = 0; i < 3; i++) {
      const [inc] = await daemon.store.listIncidents({});
      if (inc?.state === 'awaiting_approval') break;
      await new Promise((r) => setTimeout(r, 1_100));
      await daemon.watcher.runCycle();
    }
    const incidents = await daemon.store.listIncidents({});
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!;
    expect(inc.service).toBe('checkout');
    expect({ state: inc.state, why: inc.reason }).toMatchObject({ state: 'awaiting_approval' });
    expect(inc.correlation?.suspect?.deployment).toMatchObject({ id: 'bad-release', pipeline: 'checkout-deploy', revisionId: 'c0ffee1', pipelineType: 'V2' });
    expect(inc.correlation?.suspect?.reasons.join(' ')).toContain('pipeline checkout-deploy deploys checkout');
    expect(inc.evidence?.templates.some((t) => t.template.includes('PaymentClient timeout') && t.onsetCount >= 20)).toBe(true);
    // The rollback target is three days old, beyond the lookback: found by a second, longer listing.
    expect(inc.correlation?.suspect?.previousExecutionId).toBe('good-release');
    expect(inc.runbook?.steps[0]).toMatchObject({ action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', stage: 'Prod', targetExecutionId: 'good-release' } });
    // Nothing was executed: no rollback reached the stub.
    expect(stub.calls).not.toContain('RollbackStage');
    expect(stub.calls).toContain('ListPipelineExecutions');
  });
});
