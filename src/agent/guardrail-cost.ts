import type { ApplyGuardrailCommandOutput } from '@aws-sdk/client-bedrock-runtime';

/**
 * What ApplyGuardrail costs. Bedrock bills each configured policy per text unit (up to 1,000
 * characters of the screened text): content filters, denied topics, sensitive-information filters and
 * contextual grounding are priced; word filters and the free sensitive-information units are not.
 * Prices are policy data (`agent.guardrail.prices`, dollars per 1,000 text units).
 */
export interface GuardrailPrices {
  readonly contentPer1kUnits: number;
  readonly topicPer1kUnits: number;
  readonly sensitiveInformationPer1kUnits: number;
  readonly contextualGroundingPer1kUnits: number;
}

export interface GuardrailSpend {
  /** Billed text units over all policies. */
  readonly units: number;
  readonly usd: number;
}

export const NO_GUARDRAIL_SPEND: GuardrailSpend = { units: 0, usd: 0 };

/** Characters per text unit. */
const UNIT_CHARS = 1000;

/** Dollars and billed units of one ApplyGuardrail response's `usage`. Pure. */
export function guardrailCost(usage: ApplyGuardrailCommandOutput['usage'] | undefined, prices: GuardrailPrices): GuardrailSpend {
  const u = {
    content: usage?.contentPolicyUnits ?? 0,
    topic: usage?.topicPolicyUnits ?? 0,
    sensitive: usage?.sensitiveInformationPolicyUnits ?? 0,
    grounding: usage?.contextualGroundingPolicyUnits ?? 0,
  };
  const usd = (u.content * prices.contentPer1kUnits + u.topic * prices.topicPer1kUnits + u.sensitive * prices.sensitiveInformationPer1kUnits + u.grounding * prices.contextualGroundingPer1kUnits) / 1000;
  return { units: u.content + u.topic + u.sensitive + u.grounding, usd };
}

/** The most screening `chars` characters can cost: every priced policy configured. Pure. */
export function worstGuardrailCost(chars: number, prices: GuardrailPrices): GuardrailSpend {
  const units = Math.max(1, Math.ceil(chars / UNIT_CHARS));
  return guardrailCost({ contentPolicyUnits: units, topicPolicyUnits: units, sensitiveInformationPolicyUnits: units, contextualGroundingPolicyUnits: units, wordPolicyUnits: 0, sensitiveInformationPolicyFreeUnits: 0 }, prices);
}

export const addGuardrailSpend = (a: GuardrailSpend, b: GuardrailSpend): GuardrailSpend => ({ units: a.units + b.units, usd: a.usd + b.usd });
