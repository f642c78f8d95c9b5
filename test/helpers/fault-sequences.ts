/**
 * The fault property of issue 9, shared by the test files that split its sequences over the workers:
 * the pipeline on the simulated demo cloud with random faults injected into every port call.
 */
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../../src/cloud/ports.js';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { TERMINAL_STATES, type IncidentState } from '../../src/incident/lifecycle.js';
import { approvalRules } from '../../src/policy/compile.js';
import type { Planner } from '../../src/runbook/planner.js';
import { pipelineSettings } from '../../src/pipeline/settings.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from './fast-world.js';
import { mulberry32 } from '../../src/cloud/sim/random.js';

const rng = mulberry32;

/** Cycles with people deciding; then the sequence runs on until every bound below has had time to show. */
const CYCLES = 6;

// The demo, cut to what keeps sequences cheap: its broken metric only, no log evidence, a short history.
const files = demoFiles((d) => {
  d.metrics = d.metrics.filter((m) => m.id === 'checkout5xx');
  for (const s of Object.values(d.services)) s.logGroups = [];
  d.schedule.window = '30m';
  d.pipeline = { ...d.pipeline, retries: 1, retryBackoff: '0ms', draftAttempts: 3 };
  d.approval.ttl = '3m';
  d.approval.reminders = [];
  delete d.approval.escalation;
});
const interval = files.policy.pollEveryMs;
const verifyCycles = 15 * 60_000 / interval; // the templates verify within 15 minutes

/** The most cycles an incident may stay in each non-terminal state (each cycle advances at least one interval). */
const BOUND: Readonly<Record<string, number>> = {
  detected: Math.ceil(files.policy.groupWaitMs / interval) + 1,
  drafting: pipelineSettings(files.policy).draftAttempts + 1,
  awaiting_approval: Math.ceil(files.policy.ttlMs / interval) + 1,
  approved: 1,
  executing: 1,
  verifying: verifyCycles + 1,
  failed: 1,
  not_recovered: 1,
};

interface Faults {
  maybe(what: string): void;
  readonly injected: number;
}

function faults(next: () => number, p: number): Faults {
  let injected = 0;
  return {
    maybe(what) {
      if (next() >= p) return;
      injected++;
      throw next() < 0.7 ? new TransientError(`${what}: injected throttle`) : new PermanentError(`${what}: injected refusal`);
    },
    get injected() {
      return injected;
    },
  };
}

/** Checks, at the moment an action is asked to run, that the stored decisions authorize it. */
async function unauthorizedWhy(w: FastWorld, key: string): Promise<string | null> {
  const id = key.split('/').slice(0, -2).join('/');
  const inc = await w.store.getIncident(id);
  if (!inc) return `no incident for ${key}`;
  if (inc.state !== 'executing') return `${id} is ${inc.state}`;
  const req = inc.approval;
  const rb = inc.runbook;
  if (!req || !rb || req.runbookHash !== rb.hash) return `${id}: no request for this runbook`;
  const rules = approvalRules(w.deps.policy, rb.risk, req.escalated);
  const approvers = new Set(
    (await w.store.listDecisions(id))
      .filter((d) => d.verdict === 'approve' && d.runbookHash === rb.hash && d.at <= req.expiresAt && rules.eligible.has(d.approver) && !req.excludedApprovers.includes(d.approver))
      .map((d) => d.approver),
  );
  return approvers.size >= req.requiredApprovals ? null : `${id}: ${approvers.size} of ${req.requiredApprovals} valid approvals`;
}

/** One random sequence: faults at rate p (from the seed) in every port call, random decisions, restarts and time steps. */
export async function faultSequence(seed: number): Promise<{ violations: string[]; states: IncidentState[]; injected: number; executed: number }> {
  const next = rng(seed);
  const p = [0, 0.05, 0.2, 0.5][Math.floor(next() * 4)] ?? 0;
  const f = faults(next, p);
  const violations: string[] = [];
  let executed = 0;
  // The kill switch's last answer: a step may only run after an 'off'.
  let killSwitch: 'on' | 'off' | 'unknown' = 'unknown';
  let world: FastWorld | null = null;
  const w = fastWorld(files, {
    metrics: (inner): MetricSource => ({ fetch: async (...a) => (f.maybe('metrics.fetch'), inner.fetch(...a)) }),
    logs: (inner): LogSource => ({ fetch: async (...a) => (f.maybe('logs.fetch'), inner.fetch(...a)) }),
    deployments: (inner): DeploymentSource => ({ list: async (...a) => (f.maybe('deployments.list'), inner.list(...a)) }),
    actions: (inner): ActionTarget => ({
      async execute(call, key, signal) {
        const why = killSwitch !== 'off' ? `the kill switch was ${killSwitch} when the step was authorized` : world ? await unauthorizedWhy(world, key) : 'no world';
        if (why) violations.push(`seed ${seed}: executed without authorization: ${why}`);
        executed++;
        f.maybe('actions.execute');
        const r = await inner.execute(call, key, signal);
        // Sometimes the call took effect but the answer was lost.
        if (next() < p / 2) throw new TransientError('actions.execute: answer lost');
        return r;
      },
      check: async (...a) => (f.maybe('actions.check'), inner.check(...a)),
    }),
    planner: (template): Planner => ({ kind: 'agent', draft: async (...a) => (f.maybe('planner.draft'), template.draft(...a)) }),
    notifiers: (n): Notifier[] => [{ channel: 'test', announce: async (a) => (f.maybe('notify'), n.announce(a)) }],
    killSwitch: async () => {
      killSwitch = 'unknown';
      f.maybe('killSwitch');
      killSwitch = next() < 0.1 ? 'on' : 'off';
      return killSwitch === 'on';
    },
  });
  world = w;
  await seedCheckoutIncident(w);
  let watcher = new Watcher(w.deps);
  const dwell = new Map<string, { state: IncidentState; cycles: number }>();
  const people = ['alice', 'bob', 'carol', 'erin', 'mallory'];
  const total = CYCLES + Math.max(BOUND['awaiting_approval'] ?? 0, BOUND['drafting'] ?? 0) + 2;
  for (let c = 0; c < total; c++) {
    if (c < CYCLES && next() < 0.4) {
      const open = (await w.store.listIncidents({ states: ['awaiting_approval'] }))[0];
      if (open?.runbook) {
        const approver = people[Math.floor(next() * people.length)] ?? 'alice';
        const hash = next() < 0.9 ? open.runbook.hash : 'sha256:stale';
        const verdict = next() < 0.8 ? 'approve' : 'reject';
        await watcher.decide({ incidentId: open.id, approver, verdict, runbookHash: hash, channel: 'cli', identity: `token:${approver}`, ...(verdict === 'reject' ? { reason: 'no' } : {}) }).catch(() => undefined);
        await watcher.queueIdle();
      }
    }
    // A restart now and then: everything in memory is lost, the store stays.
    if (next() < 0.05) watcher = new Watcher(w.deps);
    w.clock.advance(interval * (next() < 0.2 ? 1 + Math.floor(next() * 3) : 1));
    await watcher.runCycle();
    for (const inc of await w.store.listIncidents({ limit: 100 })) {
      const d = dwell.get(inc.id);
      const cycles = d && d.state === inc.state ? d.cycles + 1 : 1;
      dwell.set(inc.id, { state: inc.state, cycles });
      if (!TERMINAL_STATES.has(inc.state) && cycles > (BOUND[inc.state] ?? 0)) violations.push(`seed ${seed}: ${inc.id} stayed ${inc.state} for ${cycles} cycles (bound ${BOUND[inc.state]}): ${inc.reason}`);
    }
  }
  const states = [...dwell.values()].map((d) => d.state);
  await w.store.close();
  return { violations, states, injected: f.injected, executed };
}


export interface PropertyTotals {
  readonly violations: string[];
  readonly seen: Map<IncidentState, number>;
  injected: number;
  executed: number;
}

/** Runs the sequences of seeds `from`..`to` and adds up what they found. */
export async function faultSequences(from: number, to: number): Promise<PropertyTotals> {
  const t: PropertyTotals = { violations: [], seen: new Map(), injected: 0, executed: 0 };
  for (let seed = from; seed <= to; seed++) {
    const r = await faultSequence(seed);
    t.violations.push(...r.violations);
    for (const s of r.states) t.seen.set(s, (t.seen.get(s) ?? 0) + 1);
    t.injected += r.injected;
    t.executed += r.executed;
  }
  return t;
}
