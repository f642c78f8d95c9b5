import { join } from 'node:path';
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBacktestWorld } from '../../src/backtest/backtest-world.js';
import { runBacktest } from '../../src/backtest/run-backtest.js';
import { createLogger } from '../../src/core/logger.js';
import type { EpochMs } from '../../src/core/time.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { parsePolicy } from '../../src/policy/load.js';
import { startCodePipelineStub, type CodePipelineStub, type StubExecution } from './codepipeline-stub.js';
import { TEST_CREDENTIALS, motoUrl, portsAt, resetMoto } from './helpers.js';

/**
 * `cloudops backtest` on real adapters: six hours of a metric put into moto with one error burst, and the
 * release that caused it in the CodePipeline stub. The replay names that release, and makes read calls only.
 */
const MIN = 60_000;
const now = Math.floor(Date.now() / MIN) * MIN;

const POLICY = `
version: 1
account: { name: moto, region: us-east-1 }
cloud: { kind: aws }
schedule: { cron: "* * * * *", window: 1h }
store: { kind: sqlite, path: state/cloudops.db }
services:
  checkout: { pipelines: [checkout-deploy] }
metrics:
  - { id: checkout5xx, service: checkout, namespace: Shop, metricName: Errors5xx, dimensions: { Service: checkout }, stat: Sum, period: 60, detector: { direction: up } }
detection: { minDuration: 2 }
grouping: { groupWait: 1m, groupInterval: 10m, clearAfter: 5m }
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
runbooks: { dir: ../../runbooks }
notify: { console: false }
safety: { killSwitch: false, killSwitchParameter: null, maxActionsPerHour: 5 }
`;

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
      { stageName: 'Prod', actionName: 'DeployEcs', category: 'Deploy', startTime: start + 9 * MIN, lastUpdateTime: deployEnd, status: 'Succeeded' },
    ],
  };
}

describe('cloudops backtest against moto and the CodePipeline stub', () => {
  let stub: CodePipelineStub;

  beforeAll(async () => {
    await resetMoto();
    stub = await startCodePipelineStub({ forwardTo: motoUrl() });
    const p = portsAt(motoUrl());
    // Six hours of 3-5 errors a minute; 40 to 30 minutes ago about 60 a minute.
    const data: MetricDatum[] = [];
    for (let m = 6 * 60; m >= 1; m--) {
      const burst = m <= 40 && m > 30;
      data.push({ MetricName: 'Errors5xx', Dimensions: [{ Name: 'Service', Value: 'checkout' }], Timestamp: new Date(now - m * MIN), Value: burst ? 60 + (m % 3) : 3 + (m % 5) * 0.5, Unit: 'Count' });
    }
    for (let i = 0; i < data.length; i += 500) await p.clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: data.slice(i, i + 500) }));
    p.clients.destroy();
    stub.addPipeline({ name: 'checkout-deploy', pipelineType: 'V2', stages: ['Source', 'Prod'], executions: [execution('bad-release', now - 42 * MIN, 'c0ffee1'), execution('good-release', now - 5 * 60 * MIN, 'a11ce00')] });
  });

  afterAll(async () => {
    await stub.close();
  });

  it('names the release behind the burst, within the planned calls, and makes read calls only', async () => {
    const file = join(import.meta.dirname, 'backtest.yaml');
    const policy = compilePolicy(parsePolicy(POLICY, file), file);
    const opened = openBacktestWorld(policy, now as EpochMs, { endpoint: stub.url, credentials: TEST_CREDENTIALS, disableRequestCompression: true, maxAttempts: 1 });
    try {
      const { plan, report } = await runBacktest({
        policy,
        world: opened.world,
        from: (now - 2 * 60 * MIN) as EpochMs,
        to: (now - 5 * MIN) as EpochMs,
        now: opened.now,
        logger: createLogger({ level: 'silent' }),
        signal: AbortSignal.timeout(60_000),
        confirm: () => true,
      });
      expect(plan.metrics.calls).toHaveLength(1);
      expect(report?.incidents).toHaveLength(1);
      expect(report?.incidents[0]?.suspect).toMatchObject({ pipeline: 'checkout-deploy', executionId: 'bad-release', revision: 'c0ffee1' });
      const writes = stub.calls.filter((c) => !/^(List|Get)/.test(c));
      expect(writes).toEqual([]);
    } finally {
      opened.close();
    }
  });
});
