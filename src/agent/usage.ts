import type { ModelPrice } from './agent-policy.js';

/** Tokens of one or more model calls, as Bedrock reports them. `input` excludes cache reads and writes. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

export const NO_USAGE: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

export const totalTokens = (u: TokenUsage): number => u.input + u.output + u.cacheRead + u.cacheWrite;

/** Dollars for `u` at `price` (per million tokens). */
export function costUsd(u: TokenUsage, price: ModelPrice): number {
  return (u.input * price.inputPerMTok + u.output * price.outputPerMTok + u.cacheRead * price.cacheReadPerMTok + u.cacheWrite * price.cacheWritePerMTok) / 1e6;
}

/** Share of all input tokens that were served from the cache. */
export function cacheReadShare(u: TokenUsage): number {
  const all = u.input + u.cacheRead + u.cacheWrite;
  return all === 0 ? 0 : u.cacheRead / all;
}

/** Reads Converse's `usage` object, tolerating absent cache fields. */
export function usageFromConverse(u: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number } | undefined): TokenUsage {
  return { input: u?.inputTokens ?? 0, output: u?.outputTokens ?? 0, cacheRead: u?.cacheReadInputTokens ?? 0, cacheWrite: u?.cacheWriteInputTokens ?? 0 };
}

/** Counts tokens of a text. Injected so the budget arithmetic is unit-tested; the default is a coarse estimate. */
export type TokenCounter = (text: string) => number;

/** About four characters a token for English and JSON: close enough to decide before a call, never used for billing. */
export const estimateTokens: TokenCounter = (text) => Math.ceil(text.length / 4);
