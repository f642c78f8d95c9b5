/**
 * The poll schedule: one cycle every `intervalMs` of the pipeline's clock, timed with monotonic timers
 * (setTimeout, performance.now), so a step of the wall clock in either direction neither stops nor
 * floods polling. A cycle that took part of the interval shortens the wait after it.
 */
export interface ScheduleOptions {
  readonly intervalMs: number;
  /** Clock milliseconds per wall millisecond (a virtual clock's speed; 1 on the real clock). */
  readonly speed: number;
  /** Waits `ms` of the pipeline's clock, rejecting when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly cycle: () => Promise<unknown>;
  readonly signal: AbortSignal;
  readonly monotonic?: () => number;
}

/** Runs until `signal` aborts; resolves then. A cycle that throws is the cycle's business: the schedule goes on. */
export async function runSchedule(o: ScheduleOptions): Promise<void> {
  const mono = o.monotonic ?? (() => performance.now());
  while (!o.signal.aborted) {
    const t0 = mono();
    await o.cycle().catch(() => undefined);
    const spent = Math.max(0, mono() - t0) * o.speed;
    try {
      await o.sleep(Math.max(0, o.intervalMs - spent), o.signal);
    } catch {
      return;
    }
  }
}
