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

/** Another writer changed the incident first; the caller re-reads and decides again. */
export class StoreConflictError extends Error {
  constructor(
    readonly incidentId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | null,
  ) {
    super(`incident ${incidentId} is at version ${actualVersion ?? 'none'}, not ${expectedVersion}`);
    this.name = 'StoreConflictError';
  }
}

export type DecisionWrite = { readonly added: true } | { readonly added: false; readonly existing: Decision };

/**
 * Durable state behind one narrow port. Every incident write carries its audit record and lands in one
 * transaction with it, before any side effect it announces (write-ahead). The leader lease lives in the
 * same store, so a fenced write and the lease it is checked against are read in one transaction.
 */
export interface Store extends LeaseStore {
  createIncident(incident: Incident, audit: AuditInput): Promise<void>;
  getIncident(id: string): Promise<Incident | null>;
  listIncidents(filter?: { readonly states?: readonly IncidentState[]; readonly service?: string; readonly limit?: number }): Promise<Incident[]>;
  /**
   * Writes `next` if the stored version is still `next.version - 1`; throws StoreConflictError otherwise.
   * The caller bumps the version (see `nextVersion`). With `fence` (an execution step's claim), the write
   * is refused with StaleFencingTokenError, in the same transaction, unless `fence.token` is still the
   * lease's current token: a former leader that was paused cannot claim a step.
   */
  updateIncident(next: Incident, audit: AuditInput, fence?: LeaseFence): Promise<void>;

  /** One decision per approver, incident and runbook hash: a second one comes back as `existing`. */
  addDecision(decision: Decision, audit: AuditInput): Promise<DecisionWrite>;
  listDecisions(incidentId: string): Promise<Decision[]>;

  appendAudit(entry: AuditInput): Promise<AuditRecord>;
  listAudit(filter?: { readonly incidentId?: string; readonly limit?: number }): Promise<AuditRecord[]>;
  verifyAudit(): Promise<AuditVerification>;

  /** Count of steps started since `since`, across incidents: the blast-radius budget. */
  countStepsSince(since: EpochMs): Promise<number>;

  addSilence(s: Silence, audit: AuditInput): Promise<void>;
  listSilences(): Promise<Silence[]>;
  expireSilence(id: string, at: EpochMs, audit: AuditInput): Promise<boolean>;

  /** Small named JSON values: detector state, poll cursors. */
  getValue<T>(key: string): Promise<T | null>;
  setValue(key: string, value: unknown): Promise<void>;
  /** Several values in one write. */
  setValues(entries: Readonly<Record<string, unknown>>): Promise<void>;
  getValues<T>(keys: readonly string[]): Promise<Map<string, T>>;

  close(): Promise<void>;
}

/** A copy of `incident` with the version bumped and updatedAt set, ready for updateIncident. */
export function nextVersion(incident: Incident, at: EpochMs): Incident {
  return { ...structuredClone(incident), version: incident.version + 1, updatedAt: at };
}
