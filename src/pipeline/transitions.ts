import type { EpochMs } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import { endOpenSignals } from '../incident/grouping.js';
import { TERMINAL_STATES, transition, type IncidentState } from '../incident/lifecycle.js';
import { faultPoint } from '../core/fault-hook.js';
import type { LeaseFence } from '../store/lease.js';
import type { Store, UpdateOptions } from '../store/store.js';
import { nextVersion } from '../store/store.js';

/**
 * Moves an incident to `to` and stores it, with its audit record, before the caller does anything the
 * move announces (write-ahead). `patch` applies further changes to the same write. Throws on an
 * illegal transition or when another writer got there first.
 */
export async function moveIncident(
  store: Store,
  inc: Incident,
  to: IncidentState,
  at: EpochMs,
  actor: string,
  reason: string,
  patch?: (next: Incident) => void,
  data: Record<string, unknown> = {},
): Promise<Incident> {
  const next = nextVersion(inc, at);
  next.state = transition(inc.state, to);
  next.reason = reason;
  patch?.(next);
  // An incident that ends takes its open signals with it (issue 15 bug 1): they stop being "ongoing".
  if (TERMINAL_STATES.has(to)) endOpenSignals(next, at);
  faultPoint(`transition.${to}`, 'before');
  await store.updateIncident(next, { at, incidentId: inc.id, kind: 'incident.transition', actor, data: { from: inc.state, to, reason, ...data } });
  faultPoint(`transition.${to}`, 'after');
  return next;
}

/**
 * Stores a change that keeps the state (new signals, a reminder sent), with its audit record. With
 * `fence` the store refuses it unless the fencing token is still current (an execution step's claim);
 * `opts.budget` spends the hour's step budget in the same write.
 */
export async function saveIncident(store: Store, inc: Incident, at: EpochMs, actor: string, kind: string, patch: (next: Incident) => void, data: Record<string, unknown> = {}, fence?: LeaseFence, opts?: UpdateOptions): Promise<Incident> {
  const next = nextVersion(inc, at);
  patch(next);
  faultPoint(kind, 'before');
  await store.updateIncident(next, { at, incidentId: inc.id, kind, actor, data }, fence, opts);
  faultPoint(kind, 'after');
  return next;
}
