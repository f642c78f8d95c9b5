import { afterEach, describe, expect, it } from 'vitest';
import type { ActionCheck, ActionTarget } from '../../src/cloud/ports.js';
import { MINUTE } from '../../src/core/time.js';
import { installFaultHook } from '../../src/core/fault-hook.js';
import type { Incident } from '../../src/incident/incident.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import type { Store } from '../../src/store/store.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

/**
 * Issue 12 item 5: the fault hook (src/core/fault-hook.ts, the one CLOUDOPS_FAULT_KILL_AT arms in a real
 * daemon) kills the runner at a write inside step 1. "Killed" here means the process writes nothing
 * more: its store refuses every call from the hook's firing on. A new Watcher over the same store and
 * the same simulated cloud is the restarted daemon. One test per recovery branch.
 */

afterEach(() => {
  installFaultHook(undefined);
});

class Killed extends Error {}

/** The store as the dying process sees it: dead from the moment the hook fires. */
function mortal(store: Store): { store: Store; kill: () => never } {
  let dead = false;
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (dead ? Promise.reject(new Killed('the process was killed')) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return {
    store: proxy,
    kill: () => {
      dead = true;
      throw new Killed('killed by the fault hook');
    },
  };
}

/** Proposes, approves and runs the demo incident in a process the hook kills at `at`; answers the incident as the crash left it. */
async function crashAt(at: string, edit?: Parameters<typeof demoFiles>[0]): Promise<{ w: FastWorld; inc: Incident }> {
  const w = fastWorld(demoFiles(edit));
  const doomed = mortal(w.store);
  const watcher = new Watcher({ ...w.deps, store: doomed.store });
  const seeded = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const p = (await w.store.getIncident(seeded.id))!;
  expect(p.state).toBe('awaiting_approval');
  installFaultHook(at, () => doomed.kill());
  await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' }).catch(() => undefined);
  await watcher.queueIdle().catch(() => undefined);
  await watcher.runCycle().catch(() => undefined);
  installFaultHook(undefined);
  return { w, inc: (await w.store.getIncident(p.id))! };
}

const restart = (w: FastWorld, o: { actions?: (inner: ActionTarget) => ActionTarget; killSwitch?: boolean } = {}): Watcher =>
  new Watcher({ ...w.deps, run: new RunState('running'), ...(o.actions ? { actions: o.actions(w.sim) } : {}), ...(o.killSwitch ? { killSwitch: async () => true } : {}) });

const answering = (check: () => Promise<ActionCheck>) => (inner: ActionTarget): ActionTarget => ({ execute: (...a) => inner.execute(...a), check, preview: (...a) => inner.preview!(...a) });

async function afterRestart(w: FastWorld, watcher: Watcher, id: string): Promise<Incident> {
  await watcher.runCycle();
  await watcher.queueIdle();
  return (await w.store.getIncident(id))!;
}

describe('the daemon killed inside a step, then restarted (issue 12 item 5)', () => {
  it('done: killed after the cloud call, before its result was written → the restart finds it done in the cloud and records it, without a second call', async () => {
    const { w, inc } = await crashAt('step.finished:before');
    expect(inc.steps.map((s) => s.status)).toEqual(['started']);
    expect(w.sim.executeCalls()).toBe(1);

    const after = await afterRestart(w, restart(w), inc.id);

    expect(after.steps[0]?.status).toBe('skipped_already_done');
    expect(['verifying', 'resolved']).toContain(after.state);
    expect(w.sim.executeCalls()).toBe(1);
    expect((await w.store.listAudit({ incidentId: inc.id })).some((a) => a.kind === 'step.recovered')).toBe(true);
  });

  it('not started: killed right after the claim was written, before the call → handed to a person, never re-run blindly', async () => {
    const { w, inc } = await crashAt('step.started:after');
    expect(inc.steps.map((s) => s.status)).toEqual(['started']);
    expect(w.sim.executeCalls()).toBe(0);

    const after = await afterRestart(w, restart(w), inc.id);

    expect(after.state).toBe('needs_human');
    expect(after.steps[0]?.status).toBe('handed_to_human');
    expect(after.reason).toMatch(/was interrupted and its outcome is not_started/);
    expect(w.sim.executeCalls()).toBe(0);
  });

  it('in progress: the cloud shows the change still rolling out → handed to a person, not called done or run again', async () => {
    const { w, inc } = await crashAt('step.finished:before');

    const after = await afterRestart(w, restart(w, { actions: answering(async () => 'in_progress') }), inc.id);

    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/outcome is in_progress/);
    expect(after.steps[0]?.summary).toBe('interrupted; the cloud shows it still in progress');
    expect(w.sim.executeCalls()).toBe(1);
  });

  it('unknown: the cloud cannot be asked (the check fails) → needs_human, nothing re-run', async () => {
    const { w, inc } = await crashAt('step.finished:before');

    const after = await afterRestart(w, restart(w, { actions: answering(async () => Promise.reject(new Error('AccessDenied'))) }), inc.id);

    expect(after.state).toBe('needs_human');
    expect(after.reason).toMatch(/outcome is unknown/);
    expect(w.sim.executeCalls()).toBe(1);
  });

  it('denied: killed after authorize() but before the claim, and the kill switch went on meanwhile → the restart re-authorizes, is denied, runs nothing', async () => {
    const { w, inc } = await crashAt('step.started:before');
    expect(inc.state).toBe('executing');
    expect(inc.steps).toEqual([]);

    const after = await afterRestart(w, restart(w, { killSwitch: true }), inc.id);

    expect(after.state).toBe('needs_human');
    expect(w.sim.executeCalls()).toBe(0);
    const denied = (await w.store.listAudit({ incidentId: inc.id })).filter((a) => a.kind === 'authorize.denied');
    expect(denied.map((d) => d.data['reason'])).toEqual(['kill_switch']);
  });

  it('denied: killed before the claim, restarted after the approval went stale (approval.executeWithin) → expired, not executed', async () => {
    const { w, inc } = await crashAt('step.started:before');

    w.clock.advance(20 * MINUTE);
    const after = await afterRestart(w, restart(w), inc.id);

    expect(after.state).toBe('expired');
    expect(after.reason).toMatch(/^expired — not executed/);
    expect(w.sim.executeCalls()).toBe(0);
    expect((await w.store.listAudit({ incidentId: inc.id })).find((a) => a.kind === 'authorize.denied')?.data['reason']).toBe('approval_stale');
  });
});
