import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentPlanner } from '../../src/agent/agent-planner.js';
import { agentPolicySchema, compileAgentPolicy, type AgentPolicyInput, type AgentSettings } from '../../src/agent/agent-policy.js';
import { SPEND_KEY } from '../../src/agent/spend-breaker.js';
import type { Incident } from '../../src/incident/incident.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import type { RunbookTemplate } from '../../src/runbook/template.js';
import { BedrockStub } from '../helpers/bedrock-stub.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';
import { stubAgentPlanner, type StubAgentOptions } from '../helpers/stub-agent-planner.js';

export const SUSPECT_ID = '5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003';
export const PREVIOUS_ID = '7b1f0c2e-aaaa-4a39-9c61-0d5e2f1a0001';

/** A valid final answer for the demo incident: roll checkout back, citing metric, log and deployment. */
export function rollbackProposal(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    decision: 'runbook',
    hypothesis: 'Release 9f8e7d6 switched the payment client to v2; calls to payments time out and checkout answers 5xx.',
    confidence: 0.8,
    title: 'Roll back checkout-deploy to the last good execution',
    steps: [
      {
        action: 'codepipeline.rollback',
        params: { pipeline: 'checkout-deploy', stage: 'Deploy', targetExecutionId: PREVIOUS_ID },
        description: 'Roll checkout back to execution 7b1f0c2e, before the v2 payment client.',
        evidence: [
          { kind: 'metric', metricId: 'checkout5xx', observation: '5xx rose from ~3 to ~48 per minute at the onset' },
          { kind: 'log', logGroups: ['/ecs/checkout'], filter: 'PaymentClientV2', observation: 'new timeout errors calling payments' },
          { kind: 'deployment', deploymentId: SUSPECT_ID, observation: 'deployed one minute before the onset' },
        ],
      },
    ],
    verification: { description: '5xx back under 10 per minute for three polls', within: '15m', healthyPolls: 3 },
    gaps: [],
    ...over,
  };
}

/** A valid final answer that replaces the checkout tasks instead of rolling back (a version 2, say). */
export function restartProposal(description: string, evidence: readonly Record<string, unknown>[]): Record<string, unknown> {
  return rollbackProposal({
    title: 'Replace the checkout tasks',
    steps: [{ action: 'ecs.forceNewDeployment', params: { service: 'checkout', cluster: 'prod' }, description, evidence }],
  });
}

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
  planner(settings: AgentSettings, opts?: Pick<StubAgentOptions, 'store' | 'logs' | 'logger' | 'count'>): AgentPlanner;
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
  // Each test starts with no agent spend booked (the breaker's ledger lives in the shared store).
  await h.store.setValue(SPEND_KEY, {});
  const stub = await new BedrockStub().start();
  const templates = loadCatalog(h.policy.runbookDir, h.policy.doc.actions);
  return {
    h,
    stub,
    incident,
    templates,
    planner(settings, opts = {}) {
      return stubAgentPlanner(stub, settings, { policy: h.policy, store: h.store, clock: h.clock, sim: h.sim, templates }, opts);
    },
    async close() {
      await stub.stop();
      await h.store.close();
    },
  };
}
