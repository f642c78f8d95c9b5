/**
 * npm run bench:agent [-- --scenarios DIR] [--only REGEX]
 *
 * Plays the scenario suite on the simulated cloud. Whenever the watcher drafts a runbook, the Bedrock
 * agent drafts the same incident against a local Converse server whose model turns are scripted but
 * whose tool calls run the real tools on the simulated cloud, so prompts and tool results have their
 * real sizes. The server bills like Bedrock: input tokens estimated from the request, prompt caching
 * simulated per cachePoint (the longest prefix cached before is read, the rest up to the last
 * checkpoint written). Cache entries live 5 minutes on the scenario's clock, renewed on each hit, and
 * belong to one scenario (one daemon): a second incident within 5 minutes reads the prefix every run
 * shares (tools, system prompt, the policy's facts); incidents further apart write it again. A
 * guardrail screens every tool result (ApplyGuardrail, billed per text unit at the policy's default
 * prices, counted in the dollars). Prices: Sonnet-class drafting ($3/$15), Haiku-class triage ($1/$5).
 * Prints a table, then one JSON line with the keys named in issue 11 (and guardrail_usd_mean).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createAgentPlanner, type AgentPlanResult } from '../src/agent/agent-planner.js';
import { agentPolicySchema, compileAgentPolicy } from '../src/agent/agent-policy.js';
import { BedrockModel } from '../src/agent/model.js';
import { estimateTokens, cacheReadShare, addUsage, NO_USAGE, type TokenUsage } from '../src/agent/usage.js';
import { buildSimWorld } from '../src/compose.js';
import { ManualClock } from '../src/core/clock.js';
import { parseDuration } from '../src/core/time.js';
import { coverScenario } from '../src/cloud/sim/run-scenario.js';
import { loadScenario } from '../src/cloud/sim/scenario.js';
import type { Incident } from '../src/incident/incident.js';
import { Watcher } from '../src/pipeline/watcher.js';
import { loadCatalog } from '../src/runbook/catalog.js';
import { DEFAULT_SUITE, scenarioFiles, suitePolicy } from './correlate/suite.js';
import { BedrockStub, turn, toolUse, type ConverseCall, type ScriptedReply } from '../test/helpers/bedrock-stub.js';

const { values } = parseArgs({ options: { scenarios: { type: 'string', default: DEFAULT_SUITE }, only: { type: 'string' } } });

const DRAFT = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const TRIAGE = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
const settings = compileAgentPolicy(
  agentPolicySchema.parse({
    draftModel: DRAFT,
    triageModel: TRIAGE,
    models: { [DRAFT]: { inputPerMTok: 3, outputPerMTok: 15, cacheMinTokens: 1024 }, [TRIAGE]: { inputPerMTok: 1, outputPerMTok: 5, cacheMinTokens: 4096 } },
    maxSteps: 6,
    breaker: { usdPerHour: 1000, usdPerDay: 1000 },
    guardrail: { id: 'bench-guardrail', version: '1' },
  }),
);

/** Bedrock-like billing of one request: cache reads for checkpoint prefixes seen before (and not expired), writes for new ones. */
class CacheBilling {
  static readonly TTL_MS = 5 * 60_000;
  /** Cached prefix → when it expires (scenario clock). */
  private seen = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  reset(): void {
    this.seen = new Map();
  }
  bill(call: ConverseCall, output: unknown[]): { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheWriteInputTokens: number } {
    type Block = { cachePoint?: unknown };
    const b = call.body as { toolConfig?: { tools?: Block[] }; system?: Block[]; messages?: { content?: Block[] }[] };
    const isCache = (x: Block): boolean => Boolean(x.cachePoint);
    const tools = b.toolConfig?.tools ?? [];
    const system = b.system ?? [];
    const messages = b.messages ?? [];
    const checkpoints: string[] = [];
    let prefix = call.modelId;
    for (const t of tools) {
      if (isCache(t)) checkpoints.push(prefix);
      else prefix += JSON.stringify(t);
    }
    for (const s of system) {
      if (isCache(s)) checkpoints.push(prefix);
      else prefix += JSON.stringify(s);
    }
    for (const m of messages) {
      for (const c of m.content ?? []) {
        if (isCache(c)) checkpoints.push(prefix);
        else prefix += JSON.stringify(c);
      }
    }
    const total = estimateTokens(prefix);
    const tok = (p: string): number => estimateTokens(p);
    // Like Bedrock, a checkpoint reads the longest cached prefix of it, wherever that prefix ended before.
    const now = this.now();
    for (const [p, until] of this.seen) if (until <= now) this.seen.delete(p);
    const longest = checkpoints.at(-1);
    let hit = '';
    if (longest) for (const s of this.seen.keys()) if (s.length > hit.length && longest.startsWith(s)) hit = s;
    const read = hit ? tok(hit) : 0;
    const write = longest && longest !== hit ? tok(longest) - read : 0;
    // A hit renews the entry it read; every checkpoint of the request is cached from now on.
    for (const c of checkpoints) this.seen.set(c, now + CacheBilling.TTL_MS);
    for (const s of this.seen.keys()) if (hit.startsWith(s)) this.seen.set(s, now + CacheBilling.TTL_MS);
    return { inputTokens: Math.max(0, total - read - write), outputTokens: estimateTokens(JSON.stringify(output)), cacheReadInputTokens: read, cacheWriteInputTokens: write };
  }
}

/** The scripted models: triage from the watcher's facts; an investigation of three turns with real tools. */
function scriptFor(stub: BedrockStub, billing: CacheBilling, incident: Incident): void {
  const reply = (call: ConverseCall, content: unknown[], stop = 'tool_use'): ScriptedReply => turn(content, stop, billing.bill(call, content));
  const c = incident.correlation;
  const s = c?.suspect ?? null;
  stub.script(TRIAGE, (call) =>
    reply(call, [toolUse('triage_decision', s && (c?.candidates.length ?? 0) <= 1
      ? { investigate: false, templateId: 'rollback-suspect-deployment', reason: 'one suspect deployment right before the onset' }
      : { investigate: true, reason: s ? 'several candidate deployments' : 'no deployment explains it' })]));
  const metric = incident.signals[0]?.metricId ?? '';
  stub.script(
    DRAFT,
    (call) => reply(call, [{ text: 'Checking the signal, the logs and the correlation.' }, toolUse('get_metric_series', { metricId: metric }), toolUse('query_logs', { filter: 'error', limit: 20 }), toolUse('get_correlation', {})]),
    (call) => reply(call, [toolUse('list_deployments', {}), toolUse('get_past_incidents', {}), toolUse('fetch_runbook', { id: s ? 'rollback-suspect-deployment' : 'restart-service' })]),
    (call) => {
      const evidence = [{ kind: 'metric', metricId: metric, observation: 'rose at the onset' }, { kind: 'log', logGroups: [`/ecs/${incident.service}`], filter: 'error', observation: 'errors after the onset' }];
      const steps = s?.previousExecutionId && s.deployment.deployStage
        ? [{ action: 'codepipeline.rollback', params: { pipeline: s.deployment.pipeline, stage: s.deployment.deployStage, targetExecutionId: s.previousExecutionId }, description: `Roll ${s.deployment.pipeline} back to ${s.previousExecutionId}.`, evidence: [...evidence, { kind: 'deployment', deploymentId: s.deployment.id, observation: 'deployed just before the onset' }] }]
        : [{ action: 'ecs.forceNewDeployment', params: { service: incident.service }, description: `Replace the tasks of ${incident.service}.`, evidence }];
      return reply(call, [toolUse('propose_runbook', {
        decision: 'runbook',
        hypothesis: s ? `Deployment ${s.deployment.id} of ${s.deployment.pipeline} broke ${incident.service}.` : `No deployment explains it; ${incident.service} degraded on its own.`,
        confidence: s ? 0.75 : 0.4,
        title: s ? `Roll back ${s.deployment.pipeline}` : `Replace the tasks of ${incident.service}`,
        steps,
        verification: { description: 'the signal back within its band for three polls', within: '15m', healthyPolls: 3 },
        gaps: [],
      })]);
    },
  );
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0);
};
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

const stub = await new BedrockStub().start();
let scenarioClock: ManualClock | null = null;
const billing = new CacheBilling(() => scenarioClock?.now() ?? 0);
const policy = suitePolicy(values.scenarios);
const results: { scenario: string; incident: string; r: AgentPlanResult }[] = [];
const only = values.only ? new RegExp(values.only) : null;
const started = performance.now();

for (const file of scenarioFiles(values.scenarios).filter((f) => !only || only.test(f))) {
  const scenario = loadScenario(file);
  const covered = coverScenario(policy, scenario, file);
  const t0 = Date.parse(scenario.start);
  const clock = new ManualClock(t0);
  scenarioClock = clock;
  billing.reset();
  const world = buildSimWorld(covered, { dataDir: join(tmpdir(), 'cloudops-bench-agent'), storePath: ':memory:', logger: pino({ level: 'silent' }), notifiers: [], clock, publicUrl: 'http://127.0.0.1:0' });
  const watcher = new Watcher(world.deps);
  const templates = loadCatalog(covered.runbookDir, covered.doc.actions);
  const agent = createAgentPlanner({ settings, policy: covered, model: new BedrockModel(stub.client(30_000)), store: world.store, clock, metrics: world.sim, logs: world.sim.logSource, deployments: world.sim, templates });
  const done = new Set<string>();
  try {
    for (let t = t0 + covered.pollEveryMs; t <= t0 + parseDuration(scenario.duration); t += covered.pollEveryMs) {
      clock.set(t);
      await watcher.runCycle();
      for (const inc of await world.store.listIncidents({ limit: 1000 })) {
        if (done.has(inc.id) || inc.state === 'detected' || inc.state === 'drafting' || !inc.correlation) continue;
        done.add(inc.id);
        scriptFor(stub, billing, inc);
        const r = await agent.draft({ ...inc, state: 'drafting', runbook: null, approval: null }, new AbortController().signal);
        // Unused scripted turns (triage skipped the investigation) must not leak into the next incident.
        stub.clearScripts();
        results.push({ scenario: file.split('/').pop() ?? file, incident: inc.id, r });
      }
    }
  } finally {
    watcher.stop();
    await world.store.close();
  }
}
await stub.stop();

const pad = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n));
console.log(`${pad('scenario', 48)} ${pad('planner', 9)} ${pad('fallback', 14)} ${pad('in', 6)} ${pad('out', 6)} ${pad('cache r', 8)} ${pad('cache w', 8)} ${pad('tools', 5)} usd`);
for (const { scenario, r } of results) {
  const t = r.agentTrace;
  console.log(`${pad(scenario, 48)} ${pad(t.planner, 9)} ${pad(t.fallbackReason ?? '-', 14)} ${pad(String(t.usage.input), 6)} ${pad(String(t.usage.output), 6)} ${pad(String(t.usage.cacheRead), 8)} ${pad(String(t.usage.cacheWrite), 8)} ${pad(String(t.toolCalls.length), 5)} ${t.usd.toFixed(4)}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s, ${results.length} incidents)`);
const traces = results.map((x) => x.r.agentTrace);
const all: TokenUsage = traces.reduce((a, t) => addUsage(a, t.usage), NO_USAGE);
const inputOf = (u: TokenUsage): number => u.input + u.cacheRead + u.cacheWrite;
const round = (n: number, d: number): number => Number(n.toFixed(d));
console.log(JSON.stringify({
  incidents: traces.length,
  input_tokens_mean: round(mean(traces.map((t) => inputOf(t.usage))), 1),
  input_tokens_p95: quantile(traces.map((t) => inputOf(t.usage)), 0.95),
  output_tokens_mean: round(mean(traces.map((t) => t.usage.output)), 1),
  cache_read_share: round(cacheReadShare(all), 3),
  usd_per_incident: round(mean(traces.map((t) => t.usd)), 5),
  usd_per_incident_p95: round(quantile(traces.map((t) => t.usd), 0.95), 5),
  tool_calls_mean: round(mean(traces.map((t) => t.toolCalls.length)), 2),
  guardrail_usd_mean: round(mean(traces.map((t) => t.guardrail.usd)), 5),
  fallback_rate: round(traces.length === 0 ? 0 : traces.filter((t) => t.fallbackReason !== null).length / traces.length, 3),
}));
