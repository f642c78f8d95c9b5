import type { Logger } from 'pino';
import { createAgentPlanner, type AgentPlanner, type AgentPlannerDeps } from '../../src/agent/agent-planner.js';
import type { AgentSettings } from '../../src/agent/agent-policy.js';
import { BedrockModel } from '../../src/agent/model.js';
import type { TokenCounter } from '../../src/agent/usage.js';
import type { LogSource } from '../../src/cloud/ports.js';
import type { SimCloud } from '../../src/cloud/sim/index.js';
import type { Clock } from '../../src/core/clock.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import type { RunbookTemplate } from '../../src/runbook/template.js';
import type { Store } from '../../src/store/store.js';
import type { BedrockStub } from './bedrock-stub.js';

/** The simulated world an agent under test reads: its policy, store, clock, cloud and runbook catalog. */
export interface AgentWorld {
  readonly policy: CompiledPolicy;
  readonly store: Store;
  readonly clock: Clock;
  readonly sim: SimCloud;
  readonly templates: readonly RunbookTemplate[];
}

export interface StubAgentOptions {
  /** In front of the simulated cloud's logs (a hostile line, a failing query). */
  readonly logs?: LogSource;
  /** Another store than the world's (a restarted daemon on the same file). */
  readonly store?: Store;
  /** Backoff sleeps; default none (retries at once). `'wall'`: the planner's own, real waits. */
  readonly sleep?: AgentPlannerDeps['sleep'] | 'wall';
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly count?: TokenCounter;
  /** The SDK client's request timeout (default the stub's). */
  readonly requestTimeoutMs?: number;
}

/**
 * The Bedrock agent planner on a simulated world, its model the Converse stub through the real SDK
 * client: the one wiring the agent tests share (fixture, pipeline world, slow-model world).
 */
export function stubAgentPlanner(stub: BedrockStub, settings: AgentSettings, w: AgentWorld, o: StubAgentOptions = {}): AgentPlanner {
  return createAgentPlanner({
    settings,
    policy: w.policy,
    model: new BedrockModel(o.requestTimeoutMs ? stub.client(o.requestTimeoutMs) : stub.client()),
    store: o.store ?? w.store,
    clock: w.clock,
    metrics: w.sim,
    logs: o.logs ?? w.sim.logSource,
    deployments: w.sim,
    templates: w.templates,
    ...(o.sleep === 'wall' ? {} : { sleep: o.sleep ?? (async () => undefined) }),
    ...(o.random ? { random: o.random } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.count ? { count: o.count } : {}),
  });
}
