import type { EpochMs } from './time.js';

/**
 * The only source of "now" for the core. Real time in production, virtual time in the demo and tests.
 * `sleep` resolves after `ms` of this clock's time, or rejects with the signal's reason when aborted.
 */
export interface Clock {
  now(): EpochMs;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export class SystemClock implements Clock {
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

/** A clock that moves only when told to: for tests. */
export class ManualClock implements Clock {
  private waiters: { at: number; resolve: () => void }[] = [];
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
