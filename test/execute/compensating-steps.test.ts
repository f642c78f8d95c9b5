import { describe, expect, it } from 'vitest';
import type { ActionTarget } from '../../src/cloud/ports.js';
import type { Incident } from '../../src/incident/incident.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { parseTemplate } from '../../src/runbook/template.js';
import { nextVersion } from '../../src/store/store.js';
import { demoFiles, fastWorld, type FastWorld, type PortOverrides } from '../helpers/fast-world.js';
import { approveAndRun, proposeCheckout } from './approve-and-run.js';

/** Compensating steps (issue 12 item 2): approved with the runbook, run only as approved, only when a later step fails. */

const template = (compensate: boolean): string => `---
id: freeze-then-roll-back
title: Freeze and roll back {{suspect.pipeline}}
priority: 100
applies:
  suspect: required
steps:
  - action: codepipeline.disableTransition
    description: Freeze stage {{suspect.deployStage}} of {{suspect.pipeline}}.
    params:
      pipeline: "{{suspect.pipeline}}"
      stage: "{{suspect.deployStage}}"
${compensate ? `    compensate:
      action: codepipeline.enableTransition
      description: Lift the freeze of {{suspect.deployStage}} again.
      params:
        pipeline: "{{suspect.pipeline}}"
        stage: "{{suspect.deployStage}}"
` : ''}  - action: codepipeline.rollback
    description: Roll {{suspect.pipeline}} back.
    params:
      pipeline: "{{suspect.pipeline}}"
      stage: "{{suspect.deployStage}}"
      targetExecutionId: "{{suspect.previousExecutionId}}"
verify:
  within: 15m
---
Freeze, then roll back.
`;

const allowTransitions = (d: PolicyDoc): void => {
  const params = { pipeline: { required: true, pattern: '[A-Za-z0-9.@_-]{1,100}' }, stage: { required: true, pattern: '[A-Za-z0-9.@_-]{1,100}' } };
  d.actions['codepipeline.disableTransition'] = { risk: 'low', params };
  d.actions['codepipeline.enableTransition'] = { risk: 'medium', params };
};

/** The rollback (step 2) fails in the cloud; everything else goes to the simulated cloud. */
const rollbackFails = (inner: ActionTarget): ActionTarget => ({
  execute: async (call, key, signal) => (call.action === 'codepipeline.rollback' ? { ok: false, summary: 'RollbackStage: PipelineExecutionOutdatedException' } : inner.execute(call, key, signal)),
  check: (...a) => inner.check(...a),
});

function world(compensate: boolean, o: PortOverrides = { actions: rollbackFails }): { w: FastWorld; watcher: Watcher } {
  const files = demoFiles(allowTransitions);
  const w = fastWorld({ ...files, templates: [parseTemplate('freeze-then-roll-back.md', template(compensate))] }, o);
  return { w, watcher: new Watcher(w.deps) };
}

const started = async (w: FastWorld, id: string): Promise<string[]> =>
  (await w.store.listAudit({ incidentId: id })).filter((a) => a.kind === 'step.started').map((a) => String(a.data['action']));

describe('a compensating step is part of what is approved', () => {
  it('the runbook hash covers the compensating step: adding or changing one gives another hash', () => {
    const base: Omit<DraftedRunbook, 'hash'> = {
      templateId: 't', title: 't', risk: 'low', body: '', draftedBy: 'template', verify: { withinMs: 60_000, healthyPolls: 1 },
      steps: [{ action: 'codepipeline.disableTransition', params: { pipeline: 'p', stage: 'Deploy' }, description: 'freeze', risk: 'low' }],
    };
    const withUndo = (stage: string): Omit<DraftedRunbook, 'hash'> => ({ ...base, steps: [{ ...base.steps[0]!, compensate: { action: 'codepipeline.enableTransition', params: { pipeline: 'p', stage }, description: 'lift' } }] });
    expect(runbookHash(withUndo('Deploy'))).not.toBe(runbookHash(base));
    expect(runbookHash(withUndo('Deploy'))).not.toBe(runbookHash(withUndo('Beta')));
    expect(runbookHash(withUndo('Deploy'))).toBe(runbookHash(withUndo('Deploy')));
  });

  it('a later step fails → the approved compensating step undoes step 1, then failed → needs_human with notice', async () => {
    const { w, watcher } = world(true);
    const p = await proposeCheckout(w, watcher);
    expect(p.runbook!.steps[0]!.compensate?.action).toBe('codepipeline.enableTransition');
    const { pipeline, stage } = p.runbook!.steps[0]!.params as { pipeline: string; stage: string };
    const inc = await approveAndRun(w, watcher, p);
    expect(await started(w, inc.id)).toEqual(['codepipeline.disableTransition', 'codepipeline.rollback', 'codepipeline.enableTransition']);
    expect(w.sim.transitionEnabled(pipeline, stage)).toBe(true);
    expect(inc.steps.map((s) => [s.index, s.status])).toEqual([[0, 'succeeded'], [1, 'failed'], [2, 'succeeded']]);
    const moves = (await w.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'incident.transition').map((a) => a.data['to']);
    expect(moves.slice(-2)).toEqual(['failed', 'needs_human']);
    expect(inc.reason).toMatch(/step 2 failed: .*compensated step 1/);
    expect(w.notifier.sent.at(-1)?.title).toMatch(/failed at step 2 \(compensated step 1\)/);
  });

  it('without a compensating step in the approved runbook nothing is undone: the freeze stays', async () => {
    const { w, watcher } = world(false);
    const p = await proposeCheckout(w, watcher);
    const { pipeline, stage } = p.runbook!.steps[0]!.params as { pipeline: string; stage: string };
    const inc = await approveAndRun(w, watcher, p);
    expect(await started(w, inc.id)).toEqual(['codepipeline.disableTransition', 'codepipeline.rollback']);
    expect(w.sim.transitionEnabled(pipeline, stage)).toBe(false);
    expect(inc.state).toBe('needs_human');
  });

  it('a compensating step changed after the approval voids it: nothing runs, the denial says why', async () => {
    const { w, watcher } = world(true);
    const p = await proposeCheckout(w, watcher);
    // The stored runbook is edited behind the approval: its compensation now touches another stage.
    const edited = nextVersion(p, w.clock.now());
    const rb = edited.runbook!;
    edited.runbook = { ...rb, steps: [{ ...rb.steps[0]!, compensate: { ...rb.steps[0]!.compensate!, params: { ...rb.steps[0]!.compensate!.params, stage: 'Prod' } } }, ...rb.steps.slice(1)] };
    await w.store.updateIncident(edited, { at: w.clock.now(), incidentId: p.id, kind: 'test.edited', actor: 'test', data: {} });
    const inc = await approveAndRun(w, watcher, p);
    expect(await started(w, inc.id)).toEqual([]);
    expect(w.sim.executeCalls()).toBe(0);
    const denied = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'authorize.denied');
    expect(denied?.data['reason']).toBe('runbook_changed');
    expect(String(denied?.data['detail'])).toMatch(/compensating steps were changed after approval/);
    expect(inc.state).toBe('needs_human');
  });

  it('the kill switch turned on after step 1 also holds the compensating step back, and the record says so', async () => {
    let on = false;
    const { w, watcher } = world(true, {
      killSwitch: async () => on,
      actions: (inner) => ({
        execute: async (call, key, signal) => {
          if (call.action !== 'codepipeline.rollback') return inner.execute(call, key, signal);
          on = true;
          return { ok: false, summary: 'RollbackStage failed' };
        },
        check: (...a) => inner.check(...a),
      }),
    });
    const p = await proposeCheckout(w, watcher);
    const inc = await approveAndRun(w, watcher, p);
    expect(await started(w, inc.id)).toEqual(['codepipeline.disableTransition', 'codepipeline.rollback']);
    const denied = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'authorize.denied');
    expect(denied?.data).toMatchObject({ reason: 'kill_switch', compensates: 1 });
    expect(inc.reason).toMatch(/compensation stopped: the compensation of step 1 was not run: the kill switch is on/);
  });
});

describe('the daemon killed inside a compensating step, then restarted', () => {
  /** As a daemon killed inside the compensation leaves it: executing, step 1 done, step 2 failed, the compensation claimed. */
  async function killedInsideCompensation(w: FastWorld, watcher: Watcher, landed: boolean): Promise<{ inc: Incident; undoKey: string }> {
    const p = await proposeCheckout(w, watcher);
    await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    w.deps.run.to('draining');
    await watcher.queueIdle();
    const rb = p.runbook!;
    const base = `${p.id}/${rb.hash.slice(7, 23)}`;
    const undoKey = `${base}/undo-1`;
    await w.sim.execute(rb.steps[0]!, `${base}/step-1`, AbortSignal.timeout(5000));
    if (landed) await w.sim.execute(rb.steps[0]!.compensate!, undoKey, AbortSignal.timeout(5000));
    const at = w.clock.now();
    const next = nextVersion((await w.store.getIncident(p.id))!, at);
    next.state = 'executing';
    next.steps = [
      { index: 0, action: rb.steps[0]!.action, idempotencyKey: `${base}/step-1`, status: 'succeeded', startedAt: at, endedAt: at, summary: 'froze' },
      { index: 1, action: rb.steps[1]!.action, idempotencyKey: `${base}/step-2`, status: 'failed', startedAt: at, endedAt: at, summary: 'RollbackStage failed' },
      { index: 2, action: rb.steps[0]!.compensate!.action, idempotencyKey: undoKey, status: 'started', startedAt: at, endedAt: null, summary: '' },
    ];
    await w.store.updateIncident(next, { at, incidentId: p.id, kind: 'step.started', actor: 'executor', data: { step: 3, compensates: 1, key: undoKey } });
    return { inc: next, undoKey };
  }

  const restart = (w: FastWorld): Watcher => new Watcher({ ...w.deps, run: new RunState('running') });

  it('done in the cloud → recorded done, not run again; the run ends failed → needs_human', async () => {
    const { w, watcher } = world(true);
    const { inc, undoKey } = await killedInsideCompensation(w, watcher, true);
    await restart(w).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps.find((s) => s.index === 2)?.status).toBe('skipped_already_done');
    expect(w.sim.executeCalls(undoKey)).toBe(1);
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/step 2 failed: RollbackStage failed; compensated step 1/);
  });

  it('not started in the cloud → handed to a person, never re-run blindly', async () => {
    const { w, watcher } = world(true);
    const { inc, undoKey } = await killedInsideCompensation(w, watcher, false);
    await restart(w).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps.find((s) => s.index === 2)?.status).toBe('handed_to_human');
    expect(w.sim.executeCalls(undoKey)).toBe(0);
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/compensation stopped: the compensation of step 1 was interrupted and its outcome is not_started/);
  });
});
