import { randomUUID } from 'node:crypto';
import type { EpochMs } from './time.js';

/**
 * Time that only moves forward, whatever happens to the wall clock (NTP steps, a VM restored from a
 * snapshot). Readings are comparable only between readings with the same `origin` (one process).
 */
export interface MonotonicClock {
  readonly origin: string;
  elapsedMs(): number;
}

/** A monotonic reading, stored beside a wall time so an age can be checked on both. */
export interface MonotonicStamp {
  readonly origin: string;
  readonly at: number;
}

export class HrtimeMonotonicClock implements MonotonicClock {
  readonly origin = randomUUID();
  elapsedMs(): number {
    return Number(process.hrtime.bigint() / 1_000_000n);
  }
}

/** Monotonic time for tests: moves only with `advance`. */
export class ManualMonotonicClock implements MonotonicClock {
  readonly origin = randomUUID();
  private t = 0;
  elapsedMs(): number {
    return this.t;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('monotonic time never goes back');
    this.t += ms;
  }
}

/**
 * The only source of "now" for the core. Real time in production, virtual time in the demo and tests.
 * `sleep` resolves after `ms` of this clock's time, or rejects with the signal's reason when aborted.
 */
export interface Clock {
  now(): EpochMs;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Real elapsed time beside `now()`, where the clock has one (a virtual clock has not). */
  readonly monotonic?: MonotonicClock;
}

/** A monotonic stamp from `clock`, or undefined when it has no monotonic time. */
export function monotonicStamp(clock: Clock): MonotonicStamp | undefined {
  return clock.monotonic ? { origin: clock.monotonic.origin, at: clock.monotonic.elapsedMs() } : undefined;
}

export class SystemClock implements Clock {
  readonly monotonic: MonotonicClock = new HrtimeMonotonicClock();
  now(): EpochMs {
    return Date.now() as EpochMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableTimeout(ms, signal);
  }
}

/**
 * Virtual time that runs `speed` times faster than the wall clock from `start`.
 * speed 60 plays a 40-minute scenario in 40 seconds.
 */
export class VirtualClock implements Clock {
  private readonly wallStart: number;
  constructor(
    private readonly start: EpochMs,
    readonly speed: number,
    private readonly wall: () => number = () => performance.now(),
    wallStart?: number,
  ) {
    if (!(speed > 0)) throw new RangeError(`clock speed must be > 0, got ${speed}`);
    this.wallStart = wallStart ?? wall();
  }
  now(): EpochMs {
    return Math.floor(this.start + (this.wall() - this.wallStart) * this.speed) as EpochMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableTimeout(ms / this.speed, signal);
  }
}

/**
 * A clock that moves only when told to: for tests. `advance` is real time passing (wall and monotonic);
 * `set` steps the wall clock alone, as NTP or an operator would.
 */
export class ManualClock implements Clock {
  private waiters: { at: number; resolve: () => void }[] = [];
  readonly monotonic = new ManualMonotonicClock();
  constructor(private t: number) {}
  now(): EpochMs {
    return this.t as EpochMs;
  }
  set(t: number): void {
    this.t = t;
    const due = this.waiters.filter((w) => w.at <= t);
    this.waiters = this.waiters.filter((w) => w.at > t);
    for (const w of due) w.resolve();
  }
  advance(ms: number): void {
    if (ms > 0) this.monotonic.advance(ms);
    this.set(this.t + ms);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const w = { at: this.t + ms, resolve };
      this.waiters.push(w);
      signal?.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(abortError(signal));
      }, { once: true });
    });
  }
}

export function abortableTimeout(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The signal's reason as an Error (a bare `abort()` already gives a DOMException named AbortError). */
function abortError(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : Object.assign(new Error(typeof r === 'string' ? r : 'aborted'), { name: 'AbortError' });
}
