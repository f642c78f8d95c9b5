import { abortableTimeout } from '../../core/clock.js';

/**
 * Spreads calls within a per-second quota (GetMetricData: 50 TPS per account and Region, shared with
 * dashboards and other tools, so we default well below it). A token bucket: `take` resolves when a
 * call may start, in arrival order; it rejects with the signal's reason when aborted while waiting.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perSecond: number,
    readonly burst: number = Math.max(1, Math.floor(perSecond)),
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableTimeout,
  ) {
    if (!(perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  /** Waits for one token. */
  take(signal: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.acquire(signal));
    // A rejected waiter must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(((1 - this.tokens) / this.perSecond) * 1000, signal);
    }
  }
}
