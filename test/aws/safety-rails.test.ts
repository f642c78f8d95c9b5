import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsPorts } from '../../src/cloud/aws/index.js';
import { SsmKillSwitch } from '../../src/cloud/aws/kill-switch.js';
import { killSwitchCheck, parseKillSwitchEnv } from '../../src/execute/kill-switch.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { approveAndRun, proposeCheckout } from '../execute/approve-and-run.js';
import { demoFiles, fastWorld, type FastWorld } from '../helpers/fast-world.js';
import { startCodePipelineStub, type CodePipelineStub, type StubExecution } from './codepipeline-stub.js';
import { motoUrl, portsAt, resetMoto } from './helpers.js';

/**
 * The safety rails in front of every step, with the AWS target (issue 12 item 4, Tests): the kill switch
 * from each of its three sources (policy flag, SSM parameter read from moto, environment override) stops
 * every step and the audit says why; a second action on the same target inside the cooldown is refused.
 */

const MIN = 60_000;
const T = Date.now();
const PARAM = '/cloudops/kill-switch';
const MUTATING = /^(Update|Rollback|Stop|Disable|Enable|StartAutomation|Publish$|Put|Create|Delete|Register)/;
const SUSPECT = '5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003';
const PREVIOUS = '7b1f0c2e-aaaa-4a39-9c61-0d5e2f1a0001';

function execution(id: string, startMin: number): StubExecution {
  const start = T - startMin * MIN;
  return { pipelineExecutionId: id, status: 'Succeeded', startTime: start, lastUpdateTime: start + 5 * MIN, actions: [{ stageName: 'Source', actionName: 'Source', category: 'Source', startTime: start, lastUpdateTime: start + MIN, status: 'Succeeded' }, { stageName: 'Deploy', actionName: 'Deploy', category: 'Deploy', startTime: start + 2 * MIN, lastUpdateTime: start + 5 * MIN, status: 'Succeeded' }] };
}

let stub: CodePipelineStub;
let ports: AwsPorts;

beforeAll(async () => {
  await resetMoto();
  stub = await startCodePipelineStub({ forwardTo: motoUrl() });
  ports = portsAt(stub.url);
  await ports.clients.ssm.send(new PutParameterCommand({ Name: PARAM, Value: 'off', Type: 'String' }));
});
afterAll(async () => stub.close());

/** A fresh pipeline (suspect latest) and a world whose kill switch is built as the composition root builds it. */
function world(sources: { policyFlag?: boolean; env?: string }, edit?: (d: PolicyDoc) => void): { w: FastWorld; watcher: Watcher } {
  stub.addPipeline({ name: 'checkout-deploy', pipelineType: 'V2', stages: ['Source', 'Deploy'], executions: [execution(SUSPECT, 20), execution(PREVIOUS, 120)] });
  const files = demoFiles((d) => {
    d.safety.killSwitch = sources.policyFlag ?? false;
    edit?.(d);
  });
  const ssmSwitch = new SsmKillSwitch(ports.clients.ssm, PARAM);
  const killSwitch = killSwitchCheck({ policyFlag: files.policy.doc.safety.killSwitch, envOverride: parseKillSwitchEnv(sources.env), parameter: (s) => ssmSwitch.isOn(s) });
  const w = fastWorld(files, { actions: () => ports.actions, killSwitch });
  return { w, watcher: new Watcher(w.deps) };
}

const setParam = (value: string) => ports.clients.ssm.send(new PutParameterCommand({ Name: PARAM, Value: value, Type: 'String', Overwrite: true }));
const denials = async (w: FastWorld, id: string) => (await w.store.listAudit({ incidentId: id })).filter((a) => a.kind === 'authorize.denied');

describe('the kill switch, with the AWS target', () => {
  const cases: { name: string; sources: { policyFlag?: boolean; env?: string }; flip?: string }[] = [
    { name: 'the SSM parameter in moto flipped to "on" between the approval and the step', sources: {}, flip: 'on' },
    { name: 'the policy flag', sources: { policyFlag: true } },
    { name: 'the environment override (CLOUDOPS_KILL_SWITCH=on)', sources: { env: 'on' } },
  ];
  for (const c of cases) {
    it(`${c.name}: no step runs, nothing mutating reaches AWS, and the audit says why`, async () => {
      await setParam('off');
      const { w, watcher } = world(c.sources);
      const p = await proposeCheckout(w, watcher);
      if (c.flip !== undefined) await setParam(c.flip);
      const before = stub.calls.length;
      const inc = await approveAndRun(w, watcher, p);
      expect(stub.calls.slice(before).filter((x) => MUTATING.test(x))).toEqual([]);
      expect(inc.steps).toEqual([]);
      const denied = await denials(w, inc.id);
      expect(denied).toHaveLength(1);
      expect(denied[0]!.data).toMatchObject({ step: 1, reason: 'kill_switch', detail: 'the kill switch is on' });
      expect(inc.state).toBe('needs_human');
      expect(inc.reason).toBe('not executed: the kill switch is on');
    });
  }

  it('with every source off the same runbook runs: RollbackStage reaches the pipeline once', async () => {
    await setParam('off');
    const { w, watcher } = world({});
    const p = await proposeCheckout(w, watcher);
    const before = stub.calls.length;
    const inc = await approveAndRun(w, watcher, p);
    expect(stub.calls.slice(before).filter((x) => x === 'RollbackStage')).toHaveLength(1);
    expect(inc.steps.map((s) => s.status)).toEqual(['succeeded']);
  });
});

describe('the per-resource cooldown, with the AWS target', () => {
  it('a second incident acting on the same pipeline stage inside the cooldown is refused with the resource and the cooldown named', async () => {
    await setParam('off');
    const { w, watcher } = world({}, (d) => (d.execution.cooldown = '30m'));
    const first = await approveAndRun(w, watcher, await proposeCheckout(w, watcher, 'checkout-20261102-0803'));
    expect(first.steps.map((s) => s.status)).toEqual(['succeeded']);
    const rollbacks = stub.calls.filter((x) => x === 'RollbackStage').length;

    w.clock.advance(5 * MIN);
    const second = await approveAndRun(w, watcher, await proposeCheckout(w, watcher, 'checkout-20261102-0815'));
    expect(stub.calls.filter((x) => x === 'RollbackStage').length).toBe(rollbacks);
    expect(second.steps).toEqual([]);
    const denied = await denials(w, second.id);
    expect(denied.map((d) => d.data['reason'])).toEqual(['cooldown']);
    expect(String(denied[0]!.data['detail'])).toBe('codepipeline:checkout-deploy/Deploy was acted on 5 min ago (cooldown 30 min)');
    expect(second.state).toBe('needs_human');
    expect(second.reason).toMatch(/^not executed: codepipeline:checkout-deploy\/Deploy was acted on 5 min ago/);
  });
});
