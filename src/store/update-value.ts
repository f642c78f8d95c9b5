import { StoreValueConflictError } from './errors.js';
import type { Store, StoreCallOptions } from './store.js';

const ATTEMPTS = 16;

/**
 * Read-modify-write of one named value through compare-and-set: `change` gets what is stored (null when
 * absent) and returns the value to store; when another writer (another task on the same store, or another
 * caller in this process) wrote first, the change is applied again to what it wrote. `change` must be pure:
 * it may run several times. Returns the value written.
 *
 * Example: await updateValue<number>(store, 'hits', (n) => (n ?? 0) + 1)
 */
export async function updateValue<T>(store: Store, key: string, change: (current: T | null) => T, opts: StoreCallOptions = {}): Promise<T> {
  let cur = await store.getValueVersioned<T>(key, opts);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const next = change(cur ? structuredClone(cur.value) : null);
    const res = await store.compareAndSetValue<T>(key, cur?.version ?? null, next, opts);
    if (res.ok) return next;
    cur = res.current;
  }
  throw new StoreValueConflictError(key, ATTEMPTS);
}
