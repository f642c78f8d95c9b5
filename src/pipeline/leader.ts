import type { Logger } from 'pino';
import type { Clock, MonotonicClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { LEADER_LEASE, type LeaseFence, type LeaseRecord, type LeaseStore } from '../store/lease.js';
import type { StageGate } from './context.js';
import { raceAbort } from './deadline.js';

/**
 * The leader elector: one process per store polls, drafts, notifies and executes; the others follow
 * (they serve HTTP and record decisions, which the leader acts on). It renews the lease on its own
 * timer, not the poll cycle's, so a long cycle (a slow action) cannot outlast it.
 *
 * Safety rests on two things. By its own monotonic clock a leader stops acting before its lease can
 * expire anywhere else: the lease is counted from the moment before the renewal was sent, and only
 * `ACT_FRACTION` of it is used. And every step claim carries the fencing token, which the store checks
 * in the claim's transaction, so a process that was paused past its lease (SIGSTOP, a long GC, a frozen
 * VM) has its claim refused even if it wakes up between its gate check and its write.
 */

/**
 * The part of a lease a leader acts on. The rest covers clock-rate differences between processes and
 * a write already on its way when the gate closed.
 */
export const ACT_FRACTION = 0.9;

/** How long after another holder's expiry a follower tries: past it on a clock that reads a little behind. */
export const EXPIRY_MARGIN_MS = 25;

export type LeaderRole = 'leader' | 'follower';

export interface LeaderStatus {
  readonly role: LeaderRole;
  /** This process's owner id. */
  readonly owner: string;
  /** Our token while leader; the last one we held otherwise (null: never held). */
  readonly token: number | null;
  /** The holder the store last named (us while leader), or null (free, or never heard). */
  readonly holder: LeaseRecord | null;
  /** Monotonic ms since the store last answered a renewal (null: it never has). */
  readonly sinceLastAnswerMs: number | null;
  /** Why this process does (not) act: for /readyz and the stage gate. */
  readonly why: string;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  /** A per-process id (host, pid, random suffix): never shared by two processes. */
  readonly owner: string;
  /** The lease's time to live, in wall milliseconds. */
  readonly ttlMs: number;
  /** Wall time for the lease record (expiries are compared on it) and the renewal timer. */
  readonly clock: Clock;
  /** What the leader times its own lease with: never stepped by NTP or an operator. */
  readonly monotonic: MonotonicClock;
  readonly logger: Logger;
  readonly lease?: string;
  /** How often the lease is renewed (or, by a follower, tried). Default: a third of the TTL. */
  readonly renewEveryMs?: number;
  /** Deadline of one renewal. Default: a quarter of the TTL. */
  readonly renewTimeoutMs?: number;
  /**
   * Whether a holder has certainly ended (it ran on this machine, in our pid space, and its pid is gone):
   * its lease is taken over at once instead of after its expiry. Default: nobody is (always wait).
   */
  readonly ownerDead?: (owner: string) => boolean;
}

export class LeaderElector {
  readonly lease: string;
  readonly owner: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly renewTimeoutMs: number;
  /** The lease as we last held it (kept after we lose it: its token still fences our claims). */
  private mine: LeaseRecord | null = null;
  /** Monotonic ms until which we act; -Infinity while not leader. */
  private actUntilMono = Number.NEGATIVE_INFINITY;
  private holder: LeaseRecord | null = null;
  private lastAnswerMono: number | null = null;
  private lastError: string | null = null;
  private role: LeaderRole = 'follower';
  private stopped = false;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly o: LeaderElectorOptions) {
    if (!(o.ttlMs > 0) || !Number.isFinite(o.ttlMs)) throw new RangeError(`lease ttl must be a positive number of milliseconds, got ${o.ttlMs}`);
    if (!o.owner) throw new RangeError('the lease owner id must not be empty');
    this.lease = o.lease ?? LEADER_LEASE;
    this.owner = o.owner;
    this.ttlMs = Math.round(o.ttlMs);
    this.renewEveryMs = o.renewEveryMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.renewTimeoutMs = o.renewTimeoutMs ?? Math.max(1, Math.floor(this.ttlMs / 4));
    if (this.renewEveryMs + this.renewTimeoutMs >= this.ttlMs * ACT_FRACTION) {
      throw new RangeError(`lease renewal every ${this.renewEveryMs} ms with a ${this.renewTimeoutMs} ms deadline would let a ${this.ttlMs} ms lease lapse between renewals`);
    }
  }

  /** Whether this process may act now: it holds the lease and, by its own monotonic clock, it has not lapsed. */
  isLeader(): boolean {
    return !this.stopped && this.mine !== null && this.o.monotonic.elapsedMs() < this.actUntilMono;
  }

  /** The stage gate: null while leader, otherwise why not. */
  readonly gate: StageGate = async () => (this.isLeader() ? null : this.whyNot());

  /**
   * The fence every step claim carries: the token we hold (or last held). A process that never held the
   * lease carries token 0, which no lease ever has, so the store refuses its claim too.
   */
  fence(): LeaseFence {
    return { lease: this.lease, token: this.mine?.token ?? 0 };
  }

  status(): LeaderStatus {
    const leader = this.isLeader();
    return {
      role: leader ? 'leader' : 'follower',
      owner: this.owner,
      token: this.mine?.token ?? null,
      holder: this.holder,
      sinceLastAnswerMs: this.lastAnswerMono === null ? null : Math.max(0, this.o.monotonic.elapsedMs() - this.lastAnswerMono),
      why: leader ? `leader: holds lease ${this.lease} (token ${this.mine?.token ?? 0})` : this.whyNot(),
    };
  }

  private whyNot(): string {
    if (this.stopped) return 'not the leader: the lease was given up (shutting down)';
    const h = this.holder;
    if (h && h.owner !== this.owner && h.expiresAt > 0) return `not the leader: lease held by ${h.owner} until ${new Date(h.expiresAt).toISOString()}`;
    if (this.mine && this.lastError) return `not the leader: the lease could not be renewed (${this.lastError}) and has lapsed by this process's clock`;
    if (this.lastError) return `not the leader: the lease could not be read (${this.lastError})`;
    if (this.mine) return 'not the leader: the lease lapsed before it was renewed';
    return 'not the leader yet: waiting for the lease';
  }

  /**
   * One renewal (or, for a follower, one attempt to take the lease over), within `renewTimeoutMs` or
   * until `signal` aborts. A failed renewal changes nothing by itself: the lease we hold simply lapses
   * by our own clock, before anybody else may take it over.
   */
  async renew(signal?: AbortSignal): Promise<LeaderStatus> {
    if (this.stopped) return this.status();
    const sentMono = this.o.monotonic.elapsedMs();
    const deadline = AbortSignal.timeout(this.renewTimeoutMs);
    const s = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      let r = await raceAbort(this.o.store.acquireLease(this.lease, this.owner, this.o.clock.now(), this.ttlMs, s), s);
      const gone = !r.held ? r.holder : null;
      if (gone && gone.owner !== this.owner && this.o.ownerDead?.(gone.owner)) {
        // A crashed daemon on this machine (SIGKILL, OOM): nobody can act under its lease, so waiting out
        // its TTL only delays decisions. The release is a compare-and-set on its owner and token.
        this.o.logger.warn({ stage: 'lease', lease: this.lease, holder: gone.owner, fence: gone.token }, 'the lease holder is no longer running on this machine: taking the lease over without waiting for it to expire');
        await raceAbort(this.o.store.releaseLease(this.lease, gone.owner, gone.token, s), s);
        r = await raceAbort(this.o.store.acquireLease(this.lease, this.owner, this.o.clock.now(), this.ttlMs, s), s);
      }
      this.lastAnswerMono = this.o.monotonic.elapsedMs();
      this.lastError = null;
      if (r.held) {
        if (this.mine?.token !== r.lease.token) {
          // Taking over from another task is news for whoever watches the fleet; a lone task's first lease is not.
          const from = this.holder && this.holder.owner !== this.owner ? this.holder.owner : null;
          const line = { stage: 'lease', lease: this.lease, fence: r.lease.token, owner: this.owner, ...(from ? { from } : {}) };
          if (from) this.o.logger.warn(line, 'took the lease over: this process now polls, drafts, notifies and executes');
          else this.o.logger.info(line, 'became the leader: this process polls, drafts, notifies and executes');
        }
        this.mine = r.lease;
        this.holder = r.lease;
        this.actUntilMono = sentMono + this.ttlMs * ACT_FRACTION;
      } else {
        this.holder = r.holder;
        this.actUntilMono = Number.NEGATIVE_INFINITY;
      }
    } catch (err) {
      this.lastError = s.aborted && !signal?.aborted ? `no answer within ${this.renewTimeoutMs} ms` : errorMessage(err);
      this.o.logger.error({ stage: 'lease', lease: this.lease, err: this.lastError }, 'lease renewal failed; this process stops acting when its lease lapses');
    }
    this.noteRole();
    return this.status();
  }

  private noteRole(): void {
    const now: LeaderRole = this.isLeader() ? 'leader' : 'follower';
    if (now === this.role) return;
    this.role = now;
    if (now === 'follower') this.o.logger.warn({ stage: 'lease', lease: this.lease, why: this.whyNot() }, 'following: not acting until the lease is ours');
  }

  /** Renews every `renewEveryMs` until `stop()`. The first renewal is the caller's (`renew()` before start). */
  start(): void {
    if (this.loop || this.stopped) return;
    const signal = this.stopper.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.o.clock.sleep(this.nextAttemptInMs(), signal);
        } catch {
          return;
        }
        await this.renew(signal);
      }
    })();
  }

  /**
   * When to renew or try next. A follower that saw the lease held by another tries again just after it
   * expires rather than up to a renewal interval later: a paused leader is then taken over within the
   * TTL of its last renewal (issue 16 item 4), not the TTL plus an interval.
   */
  nextAttemptInMs(): number {
    const h = this.holder;
    if (this.isLeader() || !h || h.owner === this.owner) return this.renewEveryMs;
    const untilExpiry = h.expiresAt - this.o.clock.now() + EXPIRY_MARGIN_MS;
    return Math.min(this.renewEveryMs, Math.max(EXPIRY_MARGIN_MS, untilExpiry));
  }

  /** Stops renewing and gives the lease up (when held) so the next process need not wait for it to expire. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopper.abort(new Error('shutting down'));
    await this.loop;
    const mine = this.mine;
    if (!mine) return;
    const deadline = AbortSignal.timeout(this.renewTimeoutMs);
    try {
      if (await raceAbort(this.o.store.releaseLease(this.lease, this.owner, mine.token, deadline), deadline)) {
        this.o.logger.info({ stage: 'lease', lease: this.lease, fence: mine.token }, 'lease released');
      }
    } catch (err) {
      this.o.logger.warn({ stage: 'lease', lease: this.lease, err: errorMessage(err) }, 'the lease could not be released; it expires by itself');
    }
  }
}
