import { z } from 'zod';
import { parseDuration } from '../core/time.js';
import type { GuardrailPrices } from './guardrail-cost.js';

/**
 * The policy's `agent:` section: which Bedrock models draft runbooks, what they cost, and the hard
 * limits every run obeys. Model ids and prices are data here, never code constants: they change with
 * regions, inference profiles and price lists.
 */

const DURATION = /^\d+(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, 'expected a duration such as 30s, 5m, 2h, 1d');
const usd = z.number().min(0).max(10_000);

const modelPriceSchema = z.strictObject({
  inputPerMTok: usd.describe('dollars per million input tokens'),
  outputPerMTok: usd.describe('dollars per million output tokens'),
  cacheWritePerMTok: usd.optional().describe('default 1.25 × input (5-minute TTL)'),
  cacheReadPerMTok: usd.optional().describe('default 0.1 × input'),
  cacheMinTokens: z.int().min(0).max(1_000_000).default(1024).describe('smallest prefix the model caches at a cachePoint; 0 = never place one'),
});

export const agentPolicySchema = z.strictObject({
  enabled: z.boolean().default(true).describe('false: every runbook comes from the templates'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1').optional().describe('Bedrock region; default the account region'),
  endpoint: z.url().optional().describe('Bedrock Runtime endpoint override (tests, VPC endpoints)'),
  draftModel: z.string().min(1).max(2048).describe('model or inference-profile id that investigates and drafts'),
  triageModel: z.string().min(1).max(2048).optional().describe('smaller model that decides whether an investigation is worth it; omitted = always investigate'),
  models: z.record(z.string().min(1), modelPriceSchema).describe('price table, one entry per model id used above'),
  maxSteps: z.int().min(2).max(50).default(8).describe('model calls per investigation; the last one is offered no investigation tools'),
  maxTokensPerCall: z.int().min(256).max(64_000).default(2048).describe('inferenceConfig.maxTokens'),
  budget: z
    .strictObject({
      tokensPerIncident: z.int().min(1000).max(10_000_000).default(200_000).describe('input + output + cache tokens per incident'),
      usdPerIncident: usd.default(0.5),
    })
    .prefault({}),
  breaker: z
    .strictObject({
      usdPerHour: usd.default(5).describe('spend across incidents in the last hour that opens the breaker'),
      usdPerDay: usd.default(50),
    })
    .prefault({}),
  deadline: duration.default('2m').describe('wall time one run may take before it falls back to the templates'),
  retries: z.int().min(0).max(8).default(3).describe('retries of a throttled or unavailable model call'),
  retryBase: duration.default('500ms').describe('first backoff; doubles per retry, with jitter'),
  toolResultMaxChars: z.int().min(500).max(200_000).default(12_000).describe('larger tool results are replaced by an instruction to narrow'),
  window: z
    .strictObject({
      keepToolResults: z.int().min(1).max(50).default(4).describe('newest tool results kept verbatim once the conversation is large'),
      summarizeAboveTokens: z.int().min(1000).max(1_000_000).default(20_000).describe('conversation size above which older tool results are summarized'),
    })
    .prefault({}),
  guardrail: z
    .strictObject({
      id: z.string().min(1).max(2048),
      version: z.string().regex(/^(DRAFT|\d+)$/, 'expected DRAFT or a version number'),
      prices: z
        .strictObject({
          contentPer1kUnits: usd.default(0.15).describe('content filters, dollars per 1,000 text units (1 unit = up to 1,000 characters)'),
          topicPer1kUnits: usd.default(0.15).describe('denied topics'),
          sensitiveInformationPer1kUnits: usd.default(0.1).describe('sensitive-information (PII) filters'),
          contextualGroundingPer1kUnits: usd.default(0.1).describe('contextual grounding checks'),
        })
        .prefault({})
        .describe('what ApplyGuardrail bills on tool results; counted in the per-incident budget and the breaker'),
    })
    .optional()
    .describe('Bedrock guardrail on Converse and, through ApplyGuardrail, on every tool result'),
  redactPatterns: z.array(z.string().min(1).max(500)).default([]).describe('extra regular expressions (PII) removed before anything reaches the model'),
  ask: z
    .strictObject({
      enabled: z.boolean().default(true).describe('people may ask the agent about an incident on its page and in its Slack thread (read-only: it can never change the runbook or a decision)'),
      maxSteps: z.int().min(1).max(20).default(4).describe('model calls per question; the last one is offered only the answer tool'),
      deadline: duration.default('60s').describe('wall time one answer may take; it runs beside the pipeline, never in front of decisions'),
      perAskerPerHour: z.int().min(1).max(1000).default(10).describe('questions one person may ask per hour (all incidents)'),
      tokensPerQuestion: z.int().min(1000).max(10_000_000).default(60_000).describe('input + output + cache tokens per question'),
      usdPerQuestion: usd.default(0.1),
      maxQuestionChars: z.int().min(20).max(4000).default(1000),
    })
    .prefault({})
    .describe('follow-up questions to the agent (issue 13): same read-only tools, breaker and injection defenses as drafting'),
});

export type AgentPolicyInput = z.input<typeof agentPolicySchema>;
export type AgentPolicyDoc = z.output<typeof agentPolicySchema>;

export interface ModelPrice {
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
  readonly cacheWritePerMTok: number;
  readonly cacheReadPerMTok: number;
  readonly cacheMinTokens: number;
}

/** The agent section with every default applied, durations in ms and regexes compiled. */
export interface AgentSettings {
  readonly enabled: boolean;
  readonly draftModel: string;
  readonly triageModel: string | null;
  readonly prices: ReadonlyMap<string, ModelPrice>;
  readonly maxSteps: number;
  readonly maxTokensPerCall: number;
  readonly tokensPerIncident: number;
  readonly usdPerIncident: number;
  readonly usdPerHour: number;
  readonly usdPerDay: number;
  readonly deadlineMs: number;
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly toolResultMaxChars: number;
  readonly keepToolResults: number;
  readonly summarizeAboveTokens: number;
  readonly guardrail: { readonly id: string; readonly version: string; readonly prices: GuardrailPrices } | null;
  readonly redactPatterns: readonly RegExp[];
  readonly ask: AskSettings;
}

/** Follow-up questions to the agent: their own limits, the drafting breaker. */
export interface AskSettings {
  readonly enabled: boolean;
  readonly maxSteps: number;
  readonly deadlineMs: number;
  readonly perAskerPerHour: number;
  readonly tokensPerQuestion: number;
  readonly usdPerQuestion: number;
  readonly maxQuestionChars: number;
}

/** Compiles the section; contradictions (a model without a price, a bad regex) fail with field-qualified messages. */
export function compileAgentPolicy(doc: AgentPolicyDoc): AgentSettings {
  const problems: string[] = [];
  const prices = new Map<string, ModelPrice>();
  for (const [id, p] of Object.entries(doc.models)) {
    prices.set(id, {
      inputPerMTok: p.inputPerMTok,
      outputPerMTok: p.outputPerMTok,
      cacheWritePerMTok: p.cacheWritePerMTok ?? p.inputPerMTok * 1.25,
      cacheReadPerMTok: p.cacheReadPerMTok ?? p.inputPerMTok * 0.1,
      cacheMinTokens: p.cacheMinTokens,
    });
  }
  if (!prices.has(doc.draftModel)) problems.push(`agent.draftModel: "${doc.draftModel}" has no entry in agent.models (a price is needed to budget it)`);
  if (doc.triageModel !== undefined && !prices.has(doc.triageModel)) problems.push(`agent.triageModel: "${doc.triageModel}" has no entry in agent.models`);
  if (doc.breaker.usdPerDay < doc.breaker.usdPerHour) problems.push(`agent.breaker.usdPerDay (${doc.breaker.usdPerDay}) is below usdPerHour (${doc.breaker.usdPerHour})`);
  const redactPatterns: RegExp[] = [];
  doc.redactPatterns.forEach((p, i) => {
    try {
      redactPatterns.push(new RegExp(p, 'g'));
    } catch (err) {
      problems.push(`agent.redactPatterns.${i}: ${(err as Error).message}`);
    }
  });
  if (problems.length > 0) throw new RangeError(`invalid agent policy:\n  ${problems.join('\n  ')}`);
  return {
    enabled: doc.enabled,
    draftModel: doc.draftModel,
    triageModel: doc.triageModel ?? null,
    prices,
    maxSteps: doc.maxSteps,
    maxTokensPerCall: doc.maxTokensPerCall,
    tokensPerIncident: doc.budget.tokensPerIncident,
    usdPerIncident: doc.budget.usdPerIncident,
    usdPerHour: doc.breaker.usdPerHour,
    usdPerDay: doc.breaker.usdPerDay,
    deadlineMs: parseDuration(doc.deadline),
    retries: doc.retries,
    retryBaseMs: parseDuration(doc.retryBase),
    toolResultMaxChars: doc.toolResultMaxChars,
    keepToolResults: doc.window.keepToolResults,
    summarizeAboveTokens: doc.window.summarizeAboveTokens,
    guardrail: doc.guardrail ?? null,
    redactPatterns,
    ask: { enabled: doc.ask.enabled, maxSteps: doc.ask.maxSteps, deadlineMs: parseDuration(doc.ask.deadline), perAskerPerHour: doc.ask.perAskerPerHour, tokensPerQuestion: doc.ask.tokensPerQuestion, usdPerQuestion: doc.ask.usdPerQuestion, maxQuestionChars: doc.ask.maxQuestionChars },
  };
}
