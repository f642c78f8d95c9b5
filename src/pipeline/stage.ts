import type { CycleContext } from './context.js';

/**
 * One stage of the pipeline: takes the cycle's context and the items it owns and returns the items
 * that go on. An empty list ends the chain. A sequence and a router are stages too, so the whole
 * pipeline is one value (alertmanager's notify.Stage).
 */
export interface Stage<In, Out = In, C extends CycleContext = CycleContext> {
  readonly name: string;
  run(ctx: C, items: readonly In[]): Promise<readonly Out[]>;
}

/** A stage from a name and a function. */
export function stage<In, Out = In, C extends CycleContext = CycleContext>(name: string, run: (ctx: C, items: readonly In[]) => Promise<readonly Out[]>): Stage<In, Out, C> {
  return { name, run };
}

/** A stage that handles one item at a time (the incident stages): `one` returns what goes on, or nothing. */
export function eachItem<In, Out = In, C extends CycleContext = CycleContext>(name: string, one: (ctx: C, item: In) => Promise<Out | null>): Stage<In, Out, C> {
  return stage(name, async (ctx, items) => {
    const out: Out[] = [];
    for (const item of items) {
      const r = await one(ctx, item);
      if (r !== null) out.push(r);
    }
    return out;
  });
}

/** `a` then `b` on what `a` returned; an empty list from `a` ends the chain. */
export function pipe<A, B, C, Ctx extends CycleContext = CycleContext>(a: Stage<A, B, Ctx>, b: Stage<B, C, Ctx>): Stage<A, C, Ctx> {
  return stage(`${a.name}→${b.name}`, async (ctx, items) => {
    const mid = await a.run(ctx, items);
    return mid.length === 0 ? [] : b.run(ctx, mid);
  });
}

/**
 * Sends each item to the stage its key names, route by route in the order given (so a cycle is
 * deterministic), and returns everything the routes returned. Items whose key has no route are dropped.
 */
export function route<T, Out, Ctx extends CycleContext = CycleContext>(name: string, key: (item: T) => string, routes: readonly (readonly [string, Stage<T, Out, Ctx>])[]): Stage<T, Out, Ctx> {
  return stage(name, async (ctx, items) => {
    const out: Out[] = [];
    for (const [k, s] of routes) {
      const mine = items.filter((i) => key(i) === k);
      if (mine.length > 0) out.push(...(await s.run(ctx, mine)));
    }
    return out;
  });
}
