/** Questions one person may ask per hour: a sliding window per asker, in wall time. */
export class AskRateLimiter {
  private readonly asked = new Map<string, number[]>();

  constructor(
    private readonly perHour: number,
    private readonly now: () => number,
  ) {}

  /** Books one question for `asker`, or says when the next one is allowed. */
  take(asker: string): { readonly ok: true } | { readonly ok: false; readonly reason: string } {
    const now = this.now();
    const recent = (this.asked.get(asker) ?? []).filter((t) => t > now - 3_600_000);
    if (recent.length >= this.perHour) {
      const waitS = Math.ceil(((recent[0] ?? now) + 3_600_000 - now) / 1000);
      this.asked.set(asker, recent);
      return { ok: false, reason: `${asker} asked ${recent.length} questions in the last hour (limit ${this.perHour}); the next one is allowed in ${waitS} s` };
    }
    recent.push(now);
    this.asked.set(asker, recent);
    // Forget askers whose window is empty, so the map does not grow with every name ever seen.
    if (this.asked.size > 10_000) for (const [k, v] of this.asked) if (v.every((t) => t <= now - 3_600_000)) this.asked.delete(k);
    return { ok: true };
  }
}
