import type { Clock } from '../core/clock.js';
import { addMs, earliest, type EpochMs } from '../core/time.js';
import type { CycleContext } from './context.js';

/** The work ran past its deadline and was aborted. */
export class DeadlineExceededError extends Error {
  constructor(
    readonly what: string,
    readonly deadline: EpochMs,
  ) {
    super(`${what} passed its deadline`);
    this.name = 'DeadlineExceededError';
  }
}

/** Cancels a deadline timer whose work is over (one shared reason: aborting without one builds a DOMException each time). */
const WORK_DONE = Object.freeze(new Error('work done'));

/**
 * A child of `ctx` whose deadline is at most `ms` from now on `clock` and whose signal aborts at that
 * deadline (a timer on the same clock, so virtual time in tests) or with the parent. `done()` clears
 * the timer; call it when the work is over.
 */
export function deadlineContext<C extends CycleContext>(clock: Clock, ctx: C, ms: number, what: string): { readonly ctx: C; done(): void } {
  const deadline = earliest(ctx.deadline, addMs(clock.now(), ms));
  const ctl = new AbortController();
  const timer = new AbortController();
  const onParent = (): void => ctl.abort(ctx.signal.reason);
  if (ctx.signal.aborted) onParent();
  else ctx.signal.addEventListener('abort', onParent, { once: true });
  clock.sleep(Math.max(0, deadline - clock.now()), timer.signal).then(
    () => ctl.abort(new DeadlineExceededError(what, deadline)),
    () => undefined,
  );
  return {
    ctx: { ...ctx, deadline, signal: ctl.signal },
    done() {
      timer.abort(WORK_DONE);
      ctx.signal.removeEventListener('abort', onParent);
    },
  };
}

/**
 * `p`, or a rejection as soon as `signal` aborts — with `reason()` when given, else the signal's own
 * reason — so a call that ignores its signal (a store, an SDK) cannot hold its caller past the deadline.
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal, reason?: () => Error): Promise<T> {
  const why = (): Error => reason?.() ?? (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) return Promise.reject(why());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(why());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
