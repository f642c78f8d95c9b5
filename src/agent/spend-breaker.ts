import { DAY, HOUR, type EpochMs } from '../core/time.js';
import type { Store } from '../store/store.js';
import { updateValue } from '../store/update-value.js';

/** Spend is booked in five-minute buckets: a day is at most 288 numbers in one store value. */
const BUCKET_MS = 5 * 60_000;
export const SPEND_KEY = 'agent.spend';

/** `bucket start (ms)` → dollars spent in it. */
export type SpendLedger = Readonly<Record<string, number>>;

export type BreakerState = { readonly open: false; readonly lastHourUsd: number; readonly lastDayUsd: number } | { readonly open: true; readonly lastHourUsd: number; readonly lastDayUsd: number; readonly reason: string };

export interface BreakerLimits {
  readonly usdPerHour: number;
  readonly usdPerDay: number;
}

const bucketOf = (t: EpochMs): number => Math.floor(t / BUCKET_MS) * BUCKET_MS;

/** Sums the ledger over buckets that overlap (now - windowMs, now]. */
function spentWithin(ledger: SpendLedger, now: EpochMs, windowMs: number): number {
  const from = bucketOf((now - windowMs + BUCKET_MS) as EpochMs);
  return Object.entries(ledger).reduce((sum, [k, v]) => (Number(k) >= from ? sum + v : sum), 0);
}

/** Pure: whether the hourly or daily dollar limit is reached at `now`, and why. */
export function breakerState(ledger: SpendLedger, now: EpochMs, limits: BreakerLimits): BreakerState {
  const lastHourUsd = spentWithin(ledger, now, HOUR);
  const lastDayUsd = spentWithin(ledger, now, DAY);
  if (lastHourUsd >= limits.usdPerHour) return { open: true, lastHourUsd, lastDayUsd, reason: `agent spend $${lastHourUsd.toFixed(4)} in the last hour reached the limit of $${limits.usdPerHour}` };
  if (lastDayUsd >= limits.usdPerDay) return { open: true, lastHourUsd, lastDayUsd, reason: `agent spend $${lastDayUsd.toFixed(4)} in the last day reached the limit of $${limits.usdPerDay}` };
  return { open: false, lastHourUsd, lastDayUsd };
}

/** Pure: the ledger with `usd` booked at `now` and buckets older than a day pruned. */
export function book(ledger: SpendLedger, now: EpochMs, usd: number): SpendLedger {
  const from = bucketOf((now - DAY) as EpochMs);
  const next: Record<string, number> = {};
  for (const [k, v] of Object.entries(ledger)) if (Number(k) > from) next[k] = v;
  const b = String(bucketOf(now));
  next[b] = (next[b] ?? 0) + usd;
  return next;
}

/**
 * The dollar circuit breaker across incidents. Its ledger lives in the store, so a restarted daemon
 * (or a second task on the same store) sees what was already spent.
 */
export class SpendBreaker {
  constructor(
    private readonly store: Store,
    private readonly limits: BreakerLimits,
  ) {}

  async state(now: EpochMs): Promise<BreakerState> {
    return breakerState(await this.ledger(), now, this.limits);
  }

  /**
   * Books spend as a compare-and-set on the ledger: two incidents drafting at once, or two tasks on one
   * store, never lose each other's dollars (the loser books again on top of the winner's ledger).
   */
  async record(now: EpochMs, usd: number): Promise<void> {
    if (usd <= 0) return;
    await updateValue<SpendLedger>(this.store, SPEND_KEY, (cur) => book(cur && typeof cur === 'object' ? cur : {}, now, usd));
  }

  private async ledger(): Promise<SpendLedger> {
    const v = await this.store.getValue<SpendLedger>(SPEND_KEY);
    return v && typeof v === 'object' ? v : {};
  }
}
