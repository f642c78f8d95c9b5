import { pino } from 'pino';
import type { ActionTarget, DeploymentSource, LogSource, MetricSource, Notifier } from '../../src/cloud/ports.js';
import { SimCloud, SimStateFile, loadScenario, type Scenario } from '../../src/cloud/sim/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { MINUTE, addMs, epochMs, type EpochMs } from '../../src/core/time.js';
import type { Incident, Signal } from '../../src/incident/incident.js';
import { openGate, type PipelineDeps } from '../../src/pipeline/context.js';
import { detectorFor } from '../../src/pipeline/detector-factory.js';
import { noMetrics } from '../../src/pipeline/metrics.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { RunState } from '../../src/pipeline/run-state.js';
import { pipelineSettings } from '../../src/pipeline/settings.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import type { Planner } from '../../src/runbook/planner.js';
import { TemplatePlanner } from '../../src/runbook/template-planner.js';
import type { RunbookTemplate } from '../../src/runbook/template.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { RecordingNotifier } from './sim-harness.js';

/** The demo policy and scenario, read once per test file (a world is then cheap to build). */
export interface DemoFiles {
  readonly policy: CompiledPolicy;
  readonly scenario: Scenario;
  readonly templates: readonly RunbookTemplate[];
}

export function demoFiles(edit?: (doc: PolicyDoc) => void): DemoFiles {
  const doc = loadPolicyFile('config/demo.yaml').policy;
  edit?.(doc);
  const policy = compilePolicy(doc, 'config/demo.yaml');
  return { policy, scenario: loadScenario(policy.scenarioFile ?? ''), templates: loadCatalog(policy.runbookDir, policy.doc.actions) };
}

/** What a test may put in front of the simulated cloud's ports. */
export interface PortOverrides {
  metrics?: (inner: MetricSource) => MetricSource;
  logs?: (inner: LogSource) => LogSource;
  deployments?: (inner: DeploymentSource) => DeploymentSource;
  actions?: (inner: ActionTarget) => ActionTarget;
  planner?: (template: Planner) => Planner;
  notifiers?: (n: RecordingNotifier) => readonly Notifier[];
  killSwitch?: (signal: AbortSignal) => Promise<boolean>;
}

export interface FastWorld {
  readonly deps: PipelineDeps;
  readonly sim: SimCloud;
  readonly store: SqliteStore;
  readonly clock: ManualClock;
  readonly notifier: RecordingNotifier;
  readonly files: DemoFiles;
}

/** The demo scenario starts at 08:00; the bad checkout release lands at 08:02 and hurts from 08:03. */
export const DEMO_T0 = epochMs(Date.parse('2026-11-02T08:00:00Z'));

/** A pipeline on the simulated demo cloud with an in-memory store and a manual clock at `at`. */
export function fastWorld(files: DemoFiles, o: PortOverrides = {}, at: EpochMs = addMs(DEMO_T0, 10 * MINUTE)): FastWorld {
  const clock = new ManualClock(at);
  const sim = new SimCloud(files.scenario, clock, new SimStateFile(null));
  const store = new SqliteStore(':memory:');
  const notifier = new RecordingNotifier();
  const template = new TemplatePlanner(files.templates, files.policy.doc.actions);
  const deps: PipelineDeps = {
    policy: files.policy,
    settings: pipelineSettings(files.policy),
    clock,
    store,
    metrics: o.metrics ? o.metrics(sim) : sim,
    logs: o.logs ? o.logs(sim.logSource) : sim.logSource,
    deployments: o.deployments ? o.deployments(sim) : sim,
    actions: o.actions ? o.actions(sim) : sim,
    planner: o.planner ? o.planner(template) : template,
    fallbackPlanner: template,
    notifiers: o.notifiers ? o.notifiers(notifier) : [notifier],
    logger: pino({ level: 'silent' }),
    detectorFor,
    killSwitch: o.killSwitch ?? (async () => false),
    publicUrl: 'http://127.0.0.1:0',
    gate: openGate,
    run: new RunState('running'),
    pipelineMetrics: noMetrics,
  };
  return { deps, sim, store, clock, notifier, files };
}

/**
 * Stores the demo's checkout incident as grouping opens it (5xx up since 08:03), already past
 * group_wait, so the next cycle proposes it.
 */
export async function seedCheckoutIncident(w: FastWorld, id = 'checkout-20261102-0803'): Promise<Incident> {
  const started = addMs(DEMO_T0, 3 * MINUTE);
  const signal: Signal = { metricId: 'checkout5xx', metricName: 'HTTPCode_Target_5XX_Count', direction: 'up', startedAt: started, lastAnomalousAt: w.clock.now(), clearedAt: null, peakScore: 10, peakValue: 48, expected: 3 };
  const inc = newIncident(id, 'checkout', [signal], addMs(w.clock.now(), -5 * MINUTE));
  await w.store.createIncident(inc, { at: w.clock.now(), incidentId: id, kind: 'incident.opened', actor: 'test', data: {} });
  return inc;
}
