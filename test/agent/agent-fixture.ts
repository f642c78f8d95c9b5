import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogSource } from '../../src/cloud/ports.js';
import { createAgentPlanner, type AgentPlanner } from '../../src/agent/agent-planner.js';
import { agentPolicySchema, compileAgentPolicy, type AgentPolicyInput, type AgentSettings } from '../../src/agent/agent-policy.js';
import { BedrockModel } from '../../src/agent/model.js';
import type { Incident } from '../../src/incident/incident.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import type { RunbookTemplate } from '../../src/runbook/template.js';
import type { Store } from '../../src/store/store.js';
import { BedrockStub } from '../helpers/bedrock-stub.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';

export const DRAFT = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
export const TRIAGE = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

/** Sonnet-class drafting with Haiku-class triage at list prices; budgets generous unless a test narrows them. */
export function agentSettings(over: Partial<AgentPolicyInput> = {}): AgentSettings {
  return compileAgentPolicy(
    agentPolicySchema.parse({
      draftModel: DRAFT,
      models: {
        [DRAFT]: { inputPerMTok: 3, outputPerMTok: 15, cacheMinTokens: 1024 },
        [TRIAGE]: { inputPerMTok: 1, outputPerMTok: 5, cacheMinTokens: 4096 },
      },
      retryBase: '1ms',
      ...over,
    }),
  );
}

export interface AgentFixture {
  readonly h: Harness;
  readonly stub: BedrockStub;
  /** The demo incident as the planner sees it: correlated, evidence gathered, no runbook yet. */
  readonly incident: Incident;
  readonly templates: readonly RunbookTemplate[];
  planner(settings: AgentSettings, opts?: { store?: Store; logs?: LogSource }): AgentPlanner;
  close(): Promise<void>;
}

let cached: { dataDir: string; incident: Incident } | null = null;

/**
 * Plays the demo scenario until the watcher proposes (with the template planner), then hands the
 * incident, as it was before drafting, to the agent planner wired to the same simulated cloud.
 */
export async function agentFixture(): Promise<AgentFixture> {
  const h = simHarness('config/demo.yaml', undefined, cached?.dataDir ?? mkdtempSync(join(tmpdir(), 'cloudops-agent-')));
  let incident = cached?.incident;
  if (!incident) {
    const incs = await h.runUntil((xs) => xs.some((i) => i.state === 'awaiting_approval'));
    const found = incs.find((i) => i.state === 'awaiting_approval');
    if (!found) throw new Error('no incident');
    incident = { ...found, state: 'drafting', runbook: null, approval: null };
    cached = { dataDir: h.dataDir, incident };
  }
  const stub = await new BedrockStub().start();
  const templates = loadCatalog(h.policy.runbookDir, h.policy.doc.actions);
  return {
    h,
    stub,
    incident,
    templates,
    planner(settings, opts = {}) {
      return createAgentPlanner({
        settings,
        policy: h.policy,
        model: new BedrockModel(stub.client()),
        store: opts.store ?? h.store,
        clock: h.clock,
        metrics: h.sim,
        logs: opts.logs ?? h.sim.logSource,
        deployments: h.sim,
        templates,
        sleep: async () => undefined,
      });
    },
    async close() {
      await stub.stop();
      await h.store.close();
    },
  };
}
