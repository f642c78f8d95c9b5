import type { Incident } from '../incident/incident.js';
import { incidentPlace } from '../incident/incident.js';
import type { CompiledShard } from '../policy/compile.js';
import type { LeaseFence } from '../store/lease.js';
import type { AuditInput, IncidentFilter, Store, StoreCallOptions, UpdateOptions } from '../store/store.js';

/**
 * One shard's view of the shared store (issue 16 item 5). Several shards' pipelines run over one store,
 * in one task or many; each must act only on its own incidents and keep its own pipeline state:
 *
 * - incidents are stamped with the shard's account and region when written, and listings return only
 *   the shard's (an older incident without them belongs to the policy's `account`);
 * - the pipeline's own state (detector cursors, grouping, log signals, adaptive polling, pending
 *   announcements) is kept under a per-shard key prefix, because the same metric or service may be
 *   watched in two regions of one account. Keys that name an incident, a resource or a person stay shared.
 *
 * Everything else passes through: decisions, audit, silences, leases, the blast-radius budget.
 */
export const SHARD_STATE_PREFIXES: readonly string[] = ['detector:', 'logsignal:', 'grouping:', 'poll:', 'announce.pending'];

/** The per-shard prefix of a pipeline-state key, e.g. `shard/shop/eu-west-1/detector:checkout5xx`. */
export const shardStateKey = (shard: Pick<CompiledShard, 'key'>, key: string): string => (SHARD_STATE_PREFIXES.some((p) => key.startsWith(p)) ? `shard/${shard.key}/${key}` : key);

export function shardStore(inner: Store, shard: CompiledShard, home: { readonly name: string; readonly region: string }): Store {
  const place = { account: shard.account.name, region: shard.region };
  const mine = (inc: Incident): boolean => {
    const p = incidentPlace(inc, home);
    return p.account === place.account && p.region === place.region;
  };
  const stamp = (inc: Incident): Incident => (inc.account === place.account && inc.region === place.region ? inc : { ...inc, ...place });
  const key = (k: string): string => shardStateKey(shard, k);
  const unkey = (k: string): string => {
    const prefix = `shard/${shard.key}/`;
    return k.startsWith(prefix) ? k.slice(prefix.length) : k;
  };
  const scoped: Partial<Store> = {
    createIncident: (inc: Incident, audit: AuditInput, opts?: StoreCallOptions) => inner.createIncident(stamp(inc), audit, opts),
    updateIncident: (next: Incident, audit: AuditInput, fence?: LeaseFence, opts?: UpdateOptions) => inner.updateIncident(stamp(next), audit, fence, opts),
    // Asked of the store (the limit counts the shard's incidents only); `mine` stays as a guard.
    async listIncidents(filter?: IncidentFilter, opts?: StoreCallOptions) {
      return (await inner.listIncidents({ ...filter, place: { ...place, home } }, opts)).filter(mine);
    },
    getValue: <T>(k: string, opts?: StoreCallOptions) => inner.getValue<T>(key(k), opts),
    setValue: (k: string, value: unknown, opts?: StoreCallOptions) => inner.setValue(key(k), value, opts),
    setValues: (entries: Readonly<Record<string, unknown>>, opts?: StoreCallOptions) => inner.setValues(Object.fromEntries(Object.entries(entries).map(([k, v]) => [key(k), v])), opts),
    async getValues<T>(keys: readonly string[], opts?: StoreCallOptions) {
      const got = await inner.getValues<T>(keys.map(key), opts);
      return new Map([...got].map(([k, v]) => [unkey(k), v]));
    },
    getValueVersioned: (k, opts) => inner.getValueVersioned(key(k), opts),
    compareAndSetValue: (k, expected, value, opts) => inner.compareAndSetValue(key(k), expected, value, opts),
  };
  // Every other method is the shared store's own, bound to it (a Proxy keeps the list complete as the port grows).
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const own = (scoped as Record<PropertyKey, unknown>)[prop];
      if (own !== undefined) return own;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
