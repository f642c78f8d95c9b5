import type { AgentPlanner } from '../../src/agent/agent-planner.js';
import type { AgentSettings } from '../../src/agent/agent-policy.js';
import type { LogSource } from '../../src/cloud/ports.js';
import type { Incident } from '../../src/incident/incident.js';
import type { PipelineSettings } from '../../src/pipeline/settings.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { agentSettings } from '../agent/agent-fixture.js';
import { BedrockStub } from './bedrock-stub.js';
import { simHarness, type Harness } from './sim-harness.js';
import { stubAgentPlanner, type StubAgentOptions } from './stub-agent-planner.js';

/** The demo daemon's pipeline with the Bedrock agent as its planner, the model a local Converse stub. */
export interface AgentWatcher {
  readonly h: Harness;
  readonly stub: BedrockStub;
  readonly planner: AgentPlanner;
  readonly watcher: Watcher;
  /** Runs cycles (one poll interval of virtual time each) until an incident matches; throws after 100. */
  readonly until: (pred: (i: Incident) => boolean) => Promise<Incident>;
  /** The first incident awaiting approval. */
  readonly untilAwaiting: () => Promise<Incident>;
  readonly close: () => Promise<void>;
}

export interface AgentWatcherOptions {
  readonly settings?: AgentSettings;
  /** Replaces the pipeline settings (default: the harness's, so `maxRedrafts` is the demo policy's). */
  readonly pipeline?: (s: PipelineSettings, h: Harness) => PipelineSettings;
  readonly logs?: (h: Harness) => LogSource;
  /** Another policy file (default the demo's), e.g. one whose scenario or runbooks a test wrote. */
  readonly policyFile?: string;
  readonly sleep?: StubAgentOptions['sleep'];
  readonly random?: StubAgentOptions['random'];
}

const open = new Set<AgentWatcher>();

/**
 * Builds the pipeline over the simulated demo cloud with the agent drafting (the template planner as
 * its fallback) and a started stub to script. Every world is closed by `closeAgentWatchers`.
 */
export async function agentWatcher(o: AgentWatcherOptions = {}): Promise<AgentWatcher> {
  const h = simHarness(o.policyFile);
  const stub = await new BedrockStub().start();
  const sim = { policy: h.policy, store: h.store, clock: h.clock, sim: h.sim, templates: loadCatalog(h.policy.runbookDir, h.policy.doc.actions) };
  const planner = stubAgentPlanner(stub, o.settings ?? agentSettings(), sim, { ...(o.logs ? { logs: o.logs(h) } : {}), ...(o.sleep ? { sleep: o.sleep } : {}), ...(o.random ? { random: o.random } : {}) });
  const watcher = new Watcher({ ...h.deps, settings: o.pipeline ? o.pipeline(h.deps.settings, h) : h.deps.settings, planner });
  const until = async (pred: (i: Incident) => boolean): Promise<Incident> => {
    for (let i = 0; i < 100; i++) {
      const found = (await h.store.listIncidents()).find(pred);
      if (found) return found;
      h.clock.advance(h.policy.pollEveryMs);
      await watcher.runCycle();
    }
    throw new Error(`condition not reached; incidents: ${JSON.stringify((await h.store.listIncidents()).map((i) => [i.id, i.state, i.reason]))}`);
  };
  const world: AgentWatcher = {
    h,
    stub,
    planner,
    watcher,
    until,
    untilAwaiting: () => until((i) => i.state === 'awaiting_approval'),
    close: async () => {
      open.delete(world);
      watcher.stop();
      await stub.stop();
      await h.store.close();
    },
  };
  open.add(world);
  return world;
}

/** For `afterEach`: closes every world `agentWatcher` built. */
export async function closeAgentWatchers(): Promise<void> {
  await Promise.all([...open].map((w) => w.close()));
}
