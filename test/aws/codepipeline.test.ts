import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { startCodePipelineStub, type CodePipelineStub, type StubExecution } from './codepipeline-stub.js';
import { motoUrl, portsAt, resetMoto, signal } from './helpers.js';

const MIN = 60_000;
const now = Date.now();

function execution(id: string, startMin: number, over: Partial<StubExecution> = {}): StubExecution {
  const start = now - startMin * MIN;
  return {
    pipelineExecutionId: id,
    status: 'Succeeded',
    startTime: start,
    lastUpdateTime: start + 12 * MIN,
    trigger: { triggerType: 'Webhook', triggerDetail: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc' },
    sourceRevisions: [{ actionName: 'Source', revisionId: `sha-${id}`, revisionSummary: `commit ${id}`, revisionUrl: `https://example.invalid/commit/${id}` }],
    actions: [
      { stageName: 'Source', actionName: 'Source', category: 'Source', startTime: start, lastUpdateTime: start + MIN, status: 'Succeeded' },
      { stageName: 'Build', actionName: 'Build', category: 'Build', startTime: start + MIN, lastUpdateTime: start + 8 * MIN, status: 'Succeeded' },
      { stageName: 'Prod', actionName: 'DeployEcs', category: 'Deploy', startTime: start + 9 * MIN, lastUpdateTime: start + 12 * MIN, status: 'Succeeded' },
    ],
    ...over,
  };
}

describe('CodePipeline adapters against the JSON 1.1 stub', () => {
  let stub: CodePipelineStub;
  beforeAll(async () => {
    await resetMoto();
    stub = await startCodePipelineStub({ forwardTo: motoUrl() });
  });
  afterAll(async () => stub.close());
  beforeEach(() => stub.reset());

  it('lists executions across pages with trigger, revision, type and deploy-stage timing', async () => {
    // 150 executions, one every 2 minutes: the list is two pages of ≤ 100.
    const executions = Array.from({ length: 150 }, (_, i) => execution(`e${i}`, 20 + i * 2));
    stub.addPipeline({ name: 'shop', pipelineType: 'V2', stages: ['Source', 'Build', 'Prod'], executions });
    const ports = portsAt(stub.url);
    const out = await ports.deployments.list(['shop'], { start: (now - 400 * MIN) as EpochMs, end: now as EpochMs }, signal());
    expect(stub.calls.filter((c) => c === 'ListPipelineExecutions')).toHaveLength(2);
    expect(out).toHaveLength(150);
    const e0 = out.find((d) => d.id === 'e0')!;
    expect(e0).toMatchObject({
      pipeline: 'shop',
      pipelineType: 'V2',
      status: 'Succeeded',
      triggerType: 'Webhook',
      triggeredBy: expect.stringContaining('connection/abc'),
      revisionId: 'sha-e0',
      revisionSummary: 'commit e0',
      deployStage: 'Prod',
      startedAt: now - 20 * MIN,
      deployStartedAt: now - 11 * MIN,
      deployEndedAt: now - 8 * MIN,
      endedAt: now - 8 * MIN,
    });
  });

  it('stops paging once executions are older than the range can reach, keeping those that ended inside it', async () => {
    const executions = Array.from({ length: 250 }, (_, i) => execution(`e${i}`, 10 + i * 10));
    stub.addPipeline({ name: 'shop', pipelineType: 'V1', stages: ['Source', 'Build', 'Prod'], executions });
    const ports = portsAt(stub.url, { deployments: { maxExecutionMs: 60 * MIN } });
    const out = await ports.deployments.list(['shop'], { start: (now - 120 * MIN) as EpochMs, end: now as EpochMs }, signal());
    expect(stub.calls.filter((c) => c === 'ListPipelineExecutions')).toHaveLength(1);
    expect(out.map((d) => d.id).sort()).toEqual(['e0', 'e1', 'e10', 'e11', 'e12', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    expect(out[0]!.pipelineType).toBe('V1');
  });

  it('names an unknown pipeline in a PermanentError', async () => {
    await expect(portsAt(stub.url).deployments.list(['nope'], { start: (now - MIN) as EpochMs, end: now as EpochMs }, signal())).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('PipelineNotFoundException'),
    });
  });

  it('rolls a V2 stage back to the last good execution before the suspect, once', async () => {
    const p = stub.addPipeline({ name: 'shop', pipelineType: 'V2', stages: ['Source', 'Build', 'Prod'], executions: [execution('bad', 20), execution('good', 60), execution('older', 120)] });
    const { actions } = portsAt(stub.url);
    const call = { action: 'codepipeline.rollback', params: { pipeline: 'shop', stage: 'Prod', fromExecutionId: 'bad' } };
    expect(await actions.check(call, 'k1', signal())).toBe('not_started');
    const r = await actions.execute(call, 'k1', signal());
    expect(r).toMatchObject({ ok: true, refs: { targetExecutionId: 'good' } });
    expect(p.executions[0]).toMatchObject({ executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: 'good' } });
    // A restarted daemon (new adapter, no memory) asks the cloud and finds the rollback running.
    const fresh = portsAt(stub.url).actions;
    expect(await fresh.check(call, 'k1', signal())).toBe('in_progress');
    await fresh.execute(call, 'k1', signal());
    expect(stub.calls.filter((c) => c === 'RollbackStage')).toHaveLength(1);
  });

  it('refuses to roll back a V1 pipeline with a PermanentError', async () => {
    stub.addPipeline({ name: 'legacy', pipelineType: 'V1', stages: ['Prod'], executions: [execution('bad', 20), execution('good', 60)] });
    await expect(portsAt(stub.url).actions.execute({ action: 'codepipeline.rollback', params: { pipeline: 'legacy', stage: 'Prod', fromExecutionId: 'bad' } }, 'k', signal())).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('V2'),
    });
    expect(stub.calls).not.toContain('RollbackStage');
  });

  it('stops a running execution and treats a second stop as done', async () => {
    stub.addPipeline({ name: 'shop', pipelineType: 'V2', stages: ['Prod'], executions: [execution('run', 5, { status: 'InProgress' })] });
    const { actions } = portsAt(stub.url);
    const call = { action: 'codepipeline.stopExecution', params: { pipeline: 'shop', executionId: 'run' } };
    expect(await actions.check(call, 'k', signal())).toBe('not_started');
    expect((await actions.execute(call, 'k', signal())).ok).toBe(true);
    expect(await portsAt(stub.url).actions.check(call, 'k', signal())).toBe('in_progress');
    const again = await portsAt(stub.url).actions.execute(call, 'k2', signal());
    expect(again).toMatchObject({ ok: true, summary: expect.stringContaining('already stopping') });
  });

  it('maps a throttled CodePipeline call to a TransientError', async () => {
    stub.addPipeline({ name: 'shop', pipelineType: 'V2', stages: ['Prod'] });
    stub.failNext.set('GetPipeline', 'ThrottlingException');
    await expect(portsAt(stub.url).deployments.list(['shop'], { start: (now - MIN) as EpochMs, end: now as EpochMs }, signal())).rejects.toMatchObject({ name: 'TransientError', retryable: true });
  });
});
