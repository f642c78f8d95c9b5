import { describe, expect, it } from 'vitest';
import { callResources } from '../../src/actions/catalogue.js';
import type { ActionCheck, ActionTarget } from '../../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { markResources } from '../../src/execute/step-outcome.js';
import type { Incident } from '../../src/incident/incident.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { nextVersion } from '../../src/store/store.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { demoFiles, fastWorld, type FastWorld, type PortOverrides } from '../helpers/fast-world.js';
import { approveAndRun as approveAndRunProposed, proposeCheckout } from '../execute/approve-and-run.js';

/** The step runner around the catalogue (issue 12): preconditions, shadow/dry run, cooldown, uncertain outcomes, recovery. */

async function approveAndRun(w: FastWorld, watcher: Watcher, before?: () => void): Promise<Incident> {
  const p = await proposeCheckout(w, watcher);
  before?.();
  return approveAndRunProposed(w, watcher, p);
}

function world(edit?: (doc: PolicyDoc) => void, o: PortOverrides = {}): { w: FastWorld; watcher: Watcher } {
  const w = fastWorld(demoFiles(edit), o);
  return { w, watcher: new Watcher(w.deps) };
}

const kinds = async (w: FastWorld, id: string): Promise<string[]> => (await w.store.listAudit({ incidentId: id })).map((a) => a.kind);

describe('live mode through the catalogue', () => {
  it('runs the approved rollback once in the simulated cloud and goes on to verify', async () => {
    const { w, watcher } = world();
    const inc = await approveAndRun(w, watcher);
    expect(w.sim.executeCalls()).toBe(1);
    expect(inc.steps.map((s) => s.status)).toEqual(['succeeded']);
    expect(['verifying', 'resolved']).toContain(inc.state);
  });
});

describe('shadow mode and dry run', () => {
  it('shadow: every step is recorded "would have run" with its preview, the cloud sees zero calls, and a person is asked to act', async () => {
    const { w, watcher } = world((d) => (d.execution.mode = 'shadow'));
    const inc = await approveAndRun(w, watcher);
    expect(w.sim.executeCalls()).toBe(0);
    expect(inc.steps.map((s) => s.status)).toEqual(['would_have_run']);
    expect(inc.steps[0]!.summary).toMatch(/roll stage .* of pipeline checkout-deploy back/);
    expect(inc.state).toBe('needs_human');
    expect(inc.reason).toMatch(/shadow mode/);
    expect(await kinds(w, inc.id)).toContain('step.would_have_run');
    expect(await kinds(w, inc.id)).not.toContain('step.started');
  });

  it('the approval request itself says shadow mode is on, before anybody decides', async () => {
    const { w, watcher } = world((d) => (d.execution.mode = 'shadow'));
    const p = await proposeCheckout(w, watcher);
    expect(p.state).toBe('awaiting_approval');
    expect(p.reason).toMatch(/WARNING: shadow mode/);
  });

  it('the approval request says the kill switch is on when it is on at proposal time', async () => {
    const { w, watcher } = world(undefined, { killSwitch: async () => true });
    const p = await proposeCheckout(w, watcher);
    expect(p.reason).toMatch(/WARNING: the kill switch is on/);
  });

  it('dry run: previews every step and stops; nothing reaches the cloud and nothing counts against the hourly budget', async () => {
    const { w, watcher } = world((d) => (d.execution.mode = 'dryRun'));
    const inc = await approveAndRun(w, watcher);
    expect(w.sim.executeCalls()).toBe(0);
    expect(inc.steps.map((s) => s.status)).toEqual(['previewed']);
    expect(inc.state).toBe('needs_human');
    expect(await w.store.countStepsSince(0 as EpochMs)).toBe(0);
  });
});

describe('safety rails re-checked right before the step', () => {
  it('the kill switch flipped on between the approval and the step: nothing runs, the denial is audited', async () => {
    let on = false;
    const { w, watcher } = world(undefined, { killSwitch: async () => on });
    const inc = await approveAndRun(w, watcher, () => (on = true));
    expect(w.sim.executeCalls()).toBe(0);
    expect(inc.state).toBe('needs_human');
    const denied = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'authorize.denied');
    expect(denied?.data['reason']).toBe('kill_switch');
  });

  it('a resource acted on within the cooldown (by another incident) is not acted on again', async () => {
    const { w, watcher } = world((d) => (d.execution.cooldown = '30m'));
    const p = await proposeCheckout(w, watcher);
    await markResources(w.store, p.runbook!.steps[0]!, (w.clock.now() - 5 * MINUTE) as EpochMs);
    const res = await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    expect(res.outcome).toBe('approved');
    await watcher.queueIdle();
    const inc = (await w.store.getIncident(p.id))!;
    expect(w.sim.executeCalls()).toBe(0);
    const denied = (await w.store.listAudit({ incidentId: p.id })).find((a) => a.kind === 'authorize.denied');
    expect(denied?.data['reason']).toBe('cooldown');
    expect(String(denied?.data['detail'])).toContain(callResources(p.runbook!.steps[0]!)[0]);
    expect(inc.state).toBe('needs_human');
  });

  it('past the cooldown the same resource may be acted on again', async () => {
    const { w, watcher } = world((d) => (d.execution.cooldown = '30m'));
    const p = await proposeCheckout(w, watcher);
    await markResources(w.store, p.runbook!.steps[0]!, (w.clock.now() - 31 * MINUTE) as EpochMs);
    await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.queueIdle();
    expect(w.sim.executeCalls()).toBe(1);
  });

  it('a target changed since the approval voids it with the precondition\'s reason; nothing runs', async () => {
    const { w, watcher } = world(undefined, {
      actions: (inner): ActionTarget => ({
        execute: (...a) => inner.execute(...a),
        check: (...a) => inner.check(...a),
        preconditions: async () => ({ ok: false, code: 'not_latest', detail: 'the suspect execution is no longer the latest in stage Deploy' }),
      }),
    });
    const inc = await approveAndRun(w, watcher);
    expect(w.sim.executeCalls()).toBe(0);
    expect(inc.state).toBe('needs_human');
    expect(inc.reason).toMatch(/approval is void: step 1 the suspect execution is no longer the latest/);
    expect(await kinds(w, inc.id)).toContain('precondition.failed');
  });
});

/** A target whose execute throws after (or instead of) reaching the cloud, and whose check answers `seen`. */
function throwing(reachCloud: boolean, seen?: ActionCheck | 'throw') {
  return (inner: ActionTarget): ActionTarget => ({
    execute: async (...a) => {
      if (reachCloud) await inner.execute(...a);
      throw new Error('socket hang up');
    },
    check: async (...a) => {
      if (seen === 'throw') throw new Error('DescribeServices timed out');
      return seen ?? inner.check(...a);
    },
  });
}

describe('an exception after the call was sent is checked against the cloud before it is called failed', () => {
  it('the call landed (check: done) → the step succeeded, with the error noted', async () => {
    const { w, watcher } = world(undefined, { actions: throwing(true) });
    const inc = await approveAndRun(w, watcher);
    expect(inc.steps[0]?.status).toBe('succeeded');
    expect(inc.steps[0]?.summary).toMatch(/socket hang up.*cloud shows it done/);
    expect(w.sim.executeCalls()).toBe(1);
  });

  it('the call never landed (check: not_started) → failed → needs_human', async () => {
    const { w, watcher } = world(undefined, { actions: throwing(false) });
    const inc = await approveAndRun(w, watcher);
    expect(inc.steps[0]?.status).toBe('failed');
    expect(inc.state).toBe('needs_human');
    const moves = (await w.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'incident.transition').map((a) => a.data['to']);
    expect(moves.slice(-2)).toEqual(['failed', 'needs_human']);
  });

  it('the cloud cannot tell (check throws) → handed to a person, not called failed', async () => {
    const { w, watcher } = world(undefined, { actions: throwing(true, 'throw') });
    const inc = await approveAndRun(w, watcher);
    expect(inc.steps[0]?.status).toBe('handed_to_human');
    expect(inc.state).toBe('needs_human');
    expect(inc.reason).toMatch(/cannot be told/);
  });
});

describe('a step found started but unfinished after a restart', () => {
  /** Leaves the incident as a daemon killed inside step 1 leaves it: executing, step 1 started, nothing finished. */
  async function killedInsideStep(w: FastWorld, watcher: Watcher, landed: boolean): Promise<Incident> {
    const p = await proposeCheckout(w, watcher);
    await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    w.deps.run.to('draining');
    await watcher.queueIdle();
    const approved = (await w.store.getIncident(p.id))!;
    const key = `${p.id}/${p.runbook!.hash.slice(7, 23)}/step-1`;
    if (landed) await w.sim.execute(p.runbook!.steps[0]!, key, AbortSignal.timeout(5000));
    const next = nextVersion(approved, w.clock.now());
    next.state = 'executing';
    next.steps = [{ index: 0, action: p.runbook!.steps[0]!.action, idempotencyKey: key, status: 'started', startedAt: w.clock.now(), endedAt: null, summary: '' }];
    await w.store.updateIncident(next, { at: w.clock.now(), incidentId: p.id, kind: 'step.started', actor: 'executor', data: { step: 1, key } });
    return next;
  }

  const restart = (w: FastWorld, actions?: (inner: ActionTarget) => ActionTarget): Watcher =>
    new Watcher({ ...w.deps, run: new RunState('running'), ...(actions ? { actions: actions(w.sim) } : {}) });

  it('done in the cloud → recorded done, not executed again', async () => {
    const { w, watcher } = world();
    const inc = await killedInsideStep(w, watcher, true);
    await restart(w).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps[0]?.status).toBe('skipped_already_done');
    expect(w.sim.executeCalls()).toBe(1);
  });

  it('not started in the cloud → handed to a person, never re-run blindly', async () => {
    const { w, watcher } = world();
    const inc = await killedInsideStep(w, watcher, false);
    await restart(w).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps[0]?.status).toBe('handed_to_human');
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/outcome is not_started/);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('in progress in the cloud → handed to a person', async () => {
    const { w, watcher } = world();
    const inc = await killedInsideStep(w, watcher, false);
    await restart(w, (inner) => ({ execute: (...a) => inner.execute(...a), check: async () => 'in_progress' })).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/outcome is in_progress/);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('unknown (the check itself fails) → needs_human', async () => {
    const { w, watcher } = world();
    const inc = await killedInsideStep(w, watcher, false);
    await restart(w, throwing(false, 'throw')).runCycle();
    const after = (await w.store.getIncident(inc.id))!;
    expect(after.steps[0]?.status).toBe('handed_to_human');
    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/outcome is unknown/);
    expect(w.sim.executeCalls()).toBe(0);
  });
});
