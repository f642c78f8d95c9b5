import { join } from 'node:path';
import type { Logger } from 'pino';
import { SystemClock, VirtualClock, type Clock } from './core/clock.js';
import { epochMs, parseDuration } from './core/time.js';
import type { Notifier } from './cloud/ports.js';
import { SimCloud, SimStateFile, loadScenario } from './cloud/sim/index.js';
import type { CompiledPolicy } from './policy/compile.js';
import { loadCatalog } from './runbook/catalog.js';
import { TemplatePlanner } from './runbook/template-planner.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import type { PipelineDeps } from './pipeline/context.js';
import { detectorFor } from './pipeline/detector-factory.js';

export interface SimWorld {
  readonly deps: PipelineDeps;
  readonly sim: SimCloud;
  readonly store: Store;
}

export interface SimOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly notifiers: readonly Notifier[];
  /** Overrides the policy's virtual clock (tests pass a ManualClock). */
  readonly clock?: Clock;
  readonly publicUrl: string;
  readonly storePath?: string;
}

/**
 * Builds the pipeline's ports on the embedded simulated cloud. Its state (virtual clock anchor, actions
 * taken) lives in the data dir beside the store, so a restarted daemon continues the same timeline.
 */
export function buildSimWorld(policy: CompiledPolicy, opts: SimOptions): SimWorld {
  if (policy.doc.cloud.kind !== 'sim' || !policy.scenarioFile) throw new Error('buildSimWorld needs a policy with cloud.kind: sim');
  const scenario = loadScenario(policy.scenarioFile);
  const state = new SimStateFile(join(opts.dataDir, 'sim-state.json'));
  let clock = opts.clock;
  if (!clock) {
    // Wall time anchors virtual time; persisted so a restart continues where the timeline was.
    const wallStart = state.data.wallStart ?? Date.now();
    state.data.wallStart = wallStart;
    state.save();
    clock = new VirtualClock(epochMs(Date.parse(scenario.start)), policy.doc.cloud.speed, () => Date.now(), wallStart);
  }
  const store = new SqliteStore(opts.storePath ?? join(opts.dataDir, 'cloudops.db'));
  const sim = new SimCloud(scenario, clock, state);
  const deps: PipelineDeps = {
    policy,
    clock,
    store,
    metrics: sim,
    logs: sim.logSource,
    deployments: sim,
    actions: sim,
    planner: new TemplatePlanner(loadCatalog(policy.runbookDir, policy.doc.actions), policy.doc.actions),
    notifiers: opts.notifiers,
    logger: opts.logger,
    detectorFor,
    killSwitch: async () => policy.doc.safety.killSwitch,
    publicUrl: opts.publicUrl,
  };
  return { deps, sim, store };
}

export { SystemClock, parseDuration };
