import type { EpochMs } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import type { IncidentState } from '../incident/lifecycle.js';
import type { LeaseFence, LeaseStore } from './lease.js';

/** One audit record. `data` is plain JSON; secrets never reach it. */
export interface AuditInput {
  readonly at: EpochMs;
  readonly incidentId: string | null;
  /** e.g. incident.opened, incident.transition, decision.recorded, step.started, step.finished */
  readonly kind: string;
  readonly actor: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditInput {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditVerification = { readonly ok: true; readonly records: number } | { readonly ok: false; readonly records: number; readonly firstBadSeq: number; readonly problem: string };

export interface Silence {
  readonly id: string;
  /** Label matchers, e.g. { service: "checkout" }; every one must match. */
  readonly matchers: Readonly<Record<string, string>>;
  readonly author: string;
  readonly reason: string;
  readonly startsAt: EpochMs;
  readonly endsAt: EpochMs;
  readonly createdAt: EpochMs;
}

export { StoreConflictError } from './errors.js';

/** The last parameter of every Store method: an AbortSignal that really stops the call (and writes nothing). */
export interface StoreCallOptions {
  readonly signal?: AbortSignal;
}

/** A named value with the version a compare-and-set must name to replace it. */
export interface VersionedValue<T> {
  readonly value: T;
  /** 1 after the first write, +1 on every write (setValue included); 0 for a DynamoDB value written before versions existed. */
  readonly version: number;
}

/** A compare-and-set: written (with the new version), or refused with what is stored now. */
export type CasResult<T> = { readonly ok: true; readonly version: number } | { readonly ok: false; readonly current: VersionedValue<T> | null };

/**
 * The blast-radius budget a step claim spends: one count per clock hour (UTC hour of `at`), incremented in
 * the claim's own transaction and refused (StepBudgetSpentError) when `max` steps already started in it.
 */
export interface StepBudget {
  readonly at: EpochMs;
  readonly max: number;
}

export interface UpdateOptions extends StoreCallOptions {
  readonly budget?: StepBudget;
}

/** Which incidents a listing needs: by state, service, opening time; newest first, at most `limit`. */
export interface IncidentFilter {
  readonly states?: readonly IncidentState[];
  readonly service?: string;
  /** Only incidents opened at or after this time. */
  readonly openedAfter?: EpochMs;
  /**
   * Only the incidents of one account and region (a shard), asked of the store rather than filtered
   * after a limited read; an incident without account or region is `home`'s (as `incidentPlace`).
   */
  readonly place?: IncidentPlaceFilter;
  readonly limit?: number;
}

export interface IncidentPlaceFilter {
  readonly account: string;
  readonly region: string;
  readonly home: { readonly name: string; readonly region: string };
}

/** What one `maintain` did. */
export interface MaintenanceReport {
  /** Ended incidents moved out of the listings (SQLite; DynamoDB expires them by TTL instead). */
  readonly archived: number;
  /** Audit records removed past their retention under a signed summary (SQLite with auditRetentionMs; else 0). */
  readonly auditRemoved: number;
  /** WAL bytes before and after the checkpoint (SQLite on a file; null otherwise). */
  readonly walBytesBefore: number | null;
  readonly walBytesAfter: number | null;
}

/** The start of the clock hour that holds `t` (the step budget's bucket). */
export const hourBucket = (t: EpochMs): EpochMs => (Math.floor(t / 3_600_000) * 3_600_000) as EpochMs;

export type DecisionWrite = { readonly added: true } | { readonly added: false; readonly existing: Decision };

/**
 * Durable state behind one narrow port. Every incident write carries its audit record and lands in one
 * transaction with it, before any side effect it announces (write-ahead). The leader lease lives in the
 * same store, so a fenced write and the lease it is checked against are read in one transaction.
 */
export interface Store extends LeaseStore {
  createIncident(incident: Incident, audit: AuditInput, opts?: StoreCallOptions): Promise<void>;
  getIncident(id: string, opts?: StoreCallOptions): Promise<Incident | null>;
  /** Reads only what the filter names (an index on state and opening time), whatever else is stored. */
  listIncidents(filter?: IncidentFilter, opts?: StoreCallOptions): Promise<Incident[]>;
  /**
   * How many incidents are in each state (for /metrics, and to size a listing), without reading their
   * documents; only the states `filter.states` names when given (each is one index lookup).
   */
  countIncidentsByState(filter?: { readonly states?: readonly IncidentState[] }, opts?: StoreCallOptions): Promise<Partial<Record<IncidentState, number>>>;
  /**
   * Writes `next` if the stored version is still `next.version - 1`; throws StoreConflictError otherwise.
   * The caller bumps the version (see `nextVersion`). With `fence` (an execution step's claim), the write
   * is refused with StaleFencingTokenError, in the same transaction, unless `fence.token` is still the
   * lease's current token: a former leader that was paused cannot claim a step. With `opts.budget` the
   * write also spends one step of the hour's blast-radius budget, or is refused with StepBudgetSpentError.
   */
  updateIncident(next: Incident, audit: AuditInput, fence?: LeaseFence, opts?: UpdateOptions): Promise<void>;

  /** One decision per approver, incident and runbook hash: a second one comes back as `existing`. */
  addDecision(decision: Decision, audit: AuditInput, opts?: StoreCallOptions): Promise<DecisionWrite>;
  listDecisions(incidentId: string, opts?: StoreCallOptions): Promise<Decision[]>;

  appendAudit(entry: AuditInput, opts?: StoreCallOptions): Promise<AuditRecord>;
  listAudit(filter?: { readonly incidentId?: string; readonly limit?: number }, opts?: StoreCallOptions): Promise<AuditRecord[]>;
  verifyAudit(opts?: StoreCallOptions): Promise<AuditVerification>;

  /** Count of steps started since `since`, across incidents, from the audit trail (reports; not the budget). */
  countStepsSince(since: EpochMs, opts?: StoreCallOptions): Promise<number>;
  /** Steps claimed against the blast-radius budget in the clock hour of `at` (see StepBudget). */
  stepsInHour(at: EpochMs, opts?: StoreCallOptions): Promise<number>;

  addSilence(s: Silence, audit: AuditInput, opts?: StoreCallOptions): Promise<void>;
  listSilences(opts?: StoreCallOptions): Promise<Silence[]>;
  expireSilence(id: string, at: EpochMs, audit: AuditInput, opts?: StoreCallOptions): Promise<boolean>;

  /** Small named JSON values: detector state, poll cursors. */
  getValue<T>(key: string, opts?: StoreCallOptions): Promise<T | null>;
  setValue(key: string, value: unknown, opts?: StoreCallOptions): Promise<void>;
  /** Several values in one write. */
  setValues(entries: Readonly<Record<string, unknown>>, opts?: StoreCallOptions): Promise<void>;
  getValues<T>(keys: readonly string[], opts?: StoreCallOptions): Promise<Map<string, T>>;
  /** A value with its version, for compareAndSetValue. */
  getValueVersioned<T>(key: string, opts?: StoreCallOptions): Promise<VersionedValue<T> | null>;
  /**
   * Writes `value` only if the stored version is still `expectedVersion` (null: only if the key is absent).
   * Of two writers that read the same version exactly one wins; the other gets what is stored now.
   */
  compareAndSetValue<T>(key: string, expectedVersion: number | null, value: T, opts?: StoreCallOptions): Promise<CasResult<T>>;

  /** Bounded growth: archives ended incidents past the retention and compacts what the backend needs. */
  maintain(now: EpochMs, opts?: StoreCallOptions): Promise<MaintenanceReport>;

  close(): Promise<void>;
}

/** A copy of `incident` with the version bumped and updatedAt set, ready for updateIncident. */
export function nextVersion(incident: Incident, at: EpochMs): Incident {
  return { ...structuredClone(incident), version: incident.version + 1, updatedAt: at };
}
