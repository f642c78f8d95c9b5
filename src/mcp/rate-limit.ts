/**
 * Per-caller token buckets: `perMinute` calls a minute, refilled continuously, a burst of the same size.
 * Pure over the times it is given (the caller passes its clock's now); the map is bounded so a flood of
 * distinct callers cannot grow it without limit (unknown callers are refused before they get here).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxCallers = 10_000,
  ) {}

  /** Takes one call for `caller` at `now` (ms): 0 when allowed, else the ms to wait. */
  take(caller: string, now: number): number {
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(caller) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + Math.max(0, now - b.at) * rate);
    b.at = now;
    if (!this.buckets.has(caller)) {
      if (this.buckets.size >= this.maxCallers) this.buckets.delete(this.buckets.keys().next().value as string);
      this.buckets.set(caller, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate);
  }
}
