import type { ModelPrice } from './agent-policy.js';
import { addUsage, costUsd, NO_USAGE, totalTokens, type TokenUsage } from './usage.js';
import { addGuardrailSpend, NO_GUARDRAIL_SPEND, type GuardrailSpend } from './guardrail-cost.js';

export interface BudgetLimits {
  readonly tokens: number;
  readonly usd: number;
}

/** What a call will cost at most: its prompt as estimated, and all of `maxTokens` as output. */
export interface CallEstimate {
  readonly model: string;
  readonly inputTokens: number;
  readonly maxOutputTokens: number;
}

export type Admission = { readonly admit: true } | { readonly admit: false; readonly reason: string };

/**
 * One incident's token and dollar account. Before a call, `admit` checks that its worst case fits what
 * is left (the loop then either finishes early or gives up); after it, `record` books what Bedrock billed.
 */
export class IncidentBudget {
  private used: TokenUsage = NO_USAGE;
  private spent = 0;
  private readonly perModel = new Map<string, TokenUsage>();
  private guardrailSpend: GuardrailSpend = NO_GUARDRAIL_SPEND;

  constructor(
    readonly limits: BudgetLimits,
    private readonly prices: ReadonlyMap<string, ModelPrice>,
  ) {}

  admit(e: CallEstimate): Admission {
    const price = this.price(e.model);
    // Worst case: the whole prompt billed as uncached input, plus every output token.
    const worstUsd = (e.inputTokens * price.inputPerMTok + e.maxOutputTokens * price.outputPerMTok) / 1e6;
    const worstTokens = e.inputTokens + e.maxOutputTokens;
    if (totalTokens(this.used) + worstTokens > this.limits.tokens) {
      return { admit: false, reason: `token budget: ${totalTokens(this.used)} used + up to ${worstTokens} for the next call > ${this.limits.tokens}` };
    }
    if (this.spent + worstUsd > this.limits.usd) {
      return { admit: false, reason: `dollar budget: $${this.spent.toFixed(4)} spent + up to $${worstUsd.toFixed(4)} for the next call > $${this.limits.usd}` };
    }
    return { admit: true };
  }

  /** Whether screening a tool result, at its worst-case cost, still fits the dollar budget. */
  admitGuardrail(worst: GuardrailSpend): Admission {
    if (this.spent + worst.usd > this.limits.usd) {
      return { admit: false, reason: `dollar budget: $${this.spent.toFixed(4)} spent + up to $${worst.usd.toFixed(4)} to screen a tool result > $${this.limits.usd}` };
    }
    return { admit: true };
  }

  /** Books one ApplyGuardrail call (billed per text unit, not per token). */
  recordGuardrail(spend: GuardrailSpend): void {
    this.guardrailSpend = addGuardrailSpend(this.guardrailSpend, spend);
    this.spent += spend.usd;
  }

  /** Text units and dollars spent on ApplyGuardrail so far (included in `usd`). */
  get guardrail(): GuardrailSpend {
    return this.guardrailSpend;
  }

  /** Books one call; returns its dollars. */
  record(model: string, u: TokenUsage): number {
    const usd = costUsd(u, this.price(model));
    this.used = addUsage(this.used, u);
    this.spent += usd;
    this.perModel.set(model, addUsage(this.perModel.get(model) ?? NO_USAGE, u));
    return usd;
  }

  get usage(): TokenUsage {
    return this.used;
  }
  get usd(): number {
    return this.spent;
  }
  byModel(): Record<string, TokenUsage> {
    return Object.fromEntries(this.perModel);
  }

  private price(model: string): ModelPrice {
    const p = this.prices.get(model);
    // compileAgentPolicy guarantees a price for every configured model; this guards programming errors.
    if (!p) throw new Error(`no price for model "${model}"`);
    return p;
  }
}
