import type { Store } from '../store/store.js';
import type { BuiltRequest } from './request.js';
import type { TokenUsage } from './usage.js';

/**
 * The smallest prefix a model caches at a cachePoint, learned from what Bedrock bills. The policy's
 * `cacheMinTokens` is a starting guess (it differs per model and changes with model versions); a call
 * that placed a checkpoint and got neither a cache write nor a cache read means the prefix is below
 * the model's minimum, and a cache write means it is not. Kept in the store, so a restart (or a second
 * task) does not pay to learn it again. Sizes are in the token counter's units, the same ones used to
 * decide where checkpoints go.
 */
export const CACHE_MIN_KEY = 'agent.cacheMin';

export interface CacheMinFacts {
  /** The largest checkpoint prefix that cached nothing: the minimum is above it. 0 = none seen. */
  readonly below: number;
  /** The smallest checkpoint prefix that got a cache write: the minimum is at most this. null = none seen. */
  readonly confirmed: number | null;
}

export type CacheMinLedger = Readonly<Record<string, CacheMinFacts>>;

/**
 * Pure: where checkpoints may go for a model, given the policy's value and what was learned. 0 stays
 * "never cache" (the operator's choice); a prefix known to cache nothing raises the minimum above it;
 * a write at a smaller prefix than the policy's guess lowers it to that size.
 */
export function effectiveCacheMin(configured: number, facts: CacheMinFacts | undefined): number {
  if (configured <= 0) return 0;
  if (!facts) return configured;
  const guess = facts.confirmed !== null ? Math.min(configured, facts.confirmed) : configured;
  return Math.max(facts.below + 1, guess);
}

/** The prefix size at the last (largest) checkpoint a request placed, or null when it placed none. */
export function largestCheckpoint(req: Pick<BuiltRequest, 'cachePoints' | 'prefixTokens'>): number | null {
  const { cachePoints: c, prefixTokens: p } = req;
  if (c.messages) return p.messages;
  if (c.system) return p.system;
  if (c.tools) return p.tools;
  return null;
}

/** Pure: what one call teaches. Unchanged facts are returned as the same object. */
export function learnCacheMin(facts: CacheMinFacts | undefined, largest: number | null, usage: TokenUsage): CacheMinFacts | undefined {
  if (largest === null) return facts;
  const f: CacheMinFacts = facts ?? { below: 0, confirmed: null };
  if (usage.cacheWrite > 0) {
    const confirmed = f.confirmed === null ? largest : Math.min(f.confirmed, largest);
    // A write below what we thought was too small: the estimate was wrong, the write is the fact.
    const below = f.below >= largest ? largest - 1 : f.below;
    return confirmed === f.confirmed && below === f.below && facts ? facts : { below, confirmed };
  }
  // A read means the prefix was cached before: it says nothing about the minimum.
  if (usage.cacheRead > 0) return facts;
  // Neither written nor read: every checkpoint of this call was below the minimum.
  if (largest <= f.below || (f.confirmed !== null && largest >= f.confirmed)) return facts;
  return { below: largest, confirmed: f.confirmed };
}

/** The learned minimums of every model, read from and written to the store. */
export class CacheMinLearner {
  private ledger: CacheMinLedger = {};
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly store: Pick<Store, 'getValue' | 'setValue'>) {}

  /** Reads what was learned so far (before a run: another task may have learned more). */
  async load(): Promise<void> {
    const v = await this.store.getValue<CacheMinLedger>(CACHE_MIN_KEY);
    this.ledger = v && typeof v === 'object' ? v : {};
  }

  minFor(model: string, configured: number): number {
    return effectiveCacheMin(configured, this.ledger[model]);
  }

  facts(model: string): CacheMinFacts | undefined {
    return this.ledger[model];
  }

  /** Learns from one call; writes the store only when something changed (writes chained, never lost to each other). */
  observe(model: string, req: Pick<BuiltRequest, 'cachePoints' | 'prefixTokens'>, usage: TokenUsage): Promise<void> {
    const before = this.ledger[model];
    const after = learnCacheMin(before, largestCheckpoint(req), usage);
    if (after === before || !after) return this.queue;
    this.ledger = { ...this.ledger, [model]: after };
    const next = this.queue.then(async () => {
      const stored = (await this.store.getValue<CacheMinLedger>(CACHE_MIN_KEY)) ?? {};
      await this.store.setValue(CACHE_MIN_KEY, { ...stored, [model]: after });
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
