/**
 * The leader lease port: one writer per store. Implemented on SQLite (one data directory, several
 * processes) and on DynamoDB (several tasks). Only the holder polls, drafts, notifies and executes; every
 * process serves HTTP. A takeover happens only after the holder's lease has expired, and each takeover
 * issues a larger fencing token; a write that carries an older token is refused by the store, so a paused
 * former leader that wakes up cannot execute anything.
 */
import type { EpochMs } from '../core/time.js';

export interface LeaseRecord {
  /** Lease name, e.g. "leader". */
  readonly name: string;
  /** Who holds it: a per-process id (host, pid, random suffix). */
  readonly owner: string;
  /** Strictly increasing across takeovers of this lease (never reused, never decreases). */
  readonly token: number;
  /** Wall-clock time after which another owner may take it over. */
  readonly expiresAt: EpochMs;
  readonly acquiredAt: EpochMs;
}

export type LeaseResult =
  | { readonly held: true; readonly lease: LeaseRecord }
  | { readonly held: false; readonly holder: LeaseRecord | null };

export interface LeaseStore {
  /**
   * Takes the lease when it is free or expired (a new, larger token) or renews it when `owner` already holds
   * it (same token, later expiry). Otherwise reports the current holder. One atomic compare-and-set.
   */
  acquireLease(name: string, owner: string, now: EpochMs, ttlMs: number, signal?: AbortSignal): Promise<LeaseResult>;
  /** Gives the lease up if `owner` holds it with `token` (clean shutdown: the next owner need not wait). */
  releaseLease(name: string, owner: string, token: number, signal?: AbortSignal): Promise<boolean>;
  readLease(name: string, signal?: AbortSignal): Promise<LeaseRecord | null>;
}

/**
 * What a fenced write carries: the lease it is made under and the token its writer holds. The store
 * refuses the write (StaleFencingTokenError) in the write's own transaction when the lease has since
 * been taken over (a larger token) or does not exist.
 */
export interface LeaseFence {
  readonly lease: string;
  readonly token: number;
}

/** A write carried a fencing token older than the lease's current one: the writer is no longer the leader. */
export class StaleFencingTokenError extends Error {
  constructor(
    readonly lease: string,
    readonly token: number,
    readonly current: number | null,
  ) {
    super(`fencing token ${token} of lease ${lease} is stale (current: ${current ?? 'none'}); this process is not the leader`);
    this.name = 'StaleFencingTokenError';
  }
}

/** The lease that guards polling, drafting, notifying and executing. */
export const LEADER_LEASE = 'leader';
