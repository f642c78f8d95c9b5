import { abortableTimeout, type Clock } from '../core/clock.js';
import { isRetryable } from '../core/errors.js';
import type { CycleContext, StageGate } from './context.js';
import { deadlineContext } from './deadline.js';
import { stage, type Stage } from './stage.js';

/**
 * The behaviour every stage gets, written once: a deadline, the gate (lease, draining), per-item
 * isolation and retries of retryable port errors. See `standardStage` for the order.
 */

export interface RetryOptions {
  readonly clock: Clock;
  /** Retries after the first try. */
  readonly retries: number;
  /** First wait in wall milliseconds, doubled each retry. */
  readonly backoffMs: number;
}

/**
 * Calls `fn` and calls it again when it fails with a retryable PortError, waiting backoff·2^n (wall
 * time, aborted with the signal) between tries, as long as retries are left and the deadline has not
 * passed. Anything else is thrown at once (retryability is data: `PortError.retryable`).
 */
export async function withRetry<T>(ctx: CycleContext, o: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err) || attempt >= o.retries || ctx.signal.aborted || o.clock.now() >= ctx.deadline) throw err;
      await abortableTimeout(o.backoffMs * 2 ** attempt, ctx.signal);
    }
  }
}

/**
 * Retries `inner` per item on retryable errors. Before a retry the item is read again (`reload`): the
 * failed try may have written part of its work; null (the item is gone or moved on) ends it.
 */
export function retrying<T, Out, C extends CycleContext>(inner: Stage<T, Out, C>, o: RetryOptions, reload: (item: T) => Promise<T | null>): Stage<T, Out, C> {
  return stage(inner.name, async (ctx, items) => {
    const out: Out[] = [];
    for (const item of items) {
      out.push(
        ...(await withRetry(ctx, o, async (attempt) => {
          const current = attempt === 0 ? item : await reload(item);
          return current === null ? [] : inner.run(ctx, [current]);
        })),
      );
    }
    return out;
  });
}

/**
 * Runs `inner` on each item alone: a failure is handed to `onFailure` (which records it on the item,
 * audits and counts it) and never stops the other items. Once the context is aborted (deadline,
 * shutdown) the remaining items are left for a later cycle.
 */
export function isolated<T, Out, C extends CycleContext>(inner: Stage<T, Out, C>, onFailure: (ctx: C, item: T, err: unknown, stage: string) => Promise<void>): Stage<T, Out, C> {
  return stage(inner.name, async (ctx, items) => {
    const out: Out[] = [];
    for (const item of items) {
      if (ctx.signal.aborted) break;
      try {
        out.push(...(await inner.run(ctx, [item])));
      } catch (err) {
        await onFailure(ctx, item, err, inner.name);
      }
    }
    return out;
  });
}

/** Asks `gate` before each item; an item it holds back waits for a later cycle (`onHeld` is told why). */
export function gated<T, Out, C extends CycleContext>(inner: Stage<T, Out, C>, gate: StageGate, onHeld: (item: T, why: string) => void = () => undefined): Stage<T, Out, C> {
  return stage(inner.name, async (ctx, items) => {
    const out: Out[] = [];
    for (const item of items) {
      const why = await gate(ctx, inner.name);
      if (why !== null) {
        onHeld(item, why);
        continue;
      }
      out.push(...(await inner.run(ctx, [item])));
    }
    return out;
  });
}

/** Gives `inner` its own deadline (`ms` on `clock`, never past the cycle's) and a signal that aborts at it. */
export function withStageDeadline<T, Out, C extends CycleContext>(inner: Stage<T, Out, C>, clock: Clock, ms: number): Stage<T, Out, C> {
  return stage(inner.name, async (ctx, items) => {
    const d = deadlineContext(clock, ctx, ms, `stage ${inner.name}`);
    try {
      return await inner.run(d.ctx, items);
    } finally {
      d.done();
    }
  });
}
