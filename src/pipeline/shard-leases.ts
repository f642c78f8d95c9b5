import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Clock, MonotonicClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { LeaseFence, LeaseRecord, LeaseStore } from '../store/lease.js';
import type { Store } from '../store/store.js';
import type { StageGate } from './context.js';
import { EXPIRY_MARGIN_MS, LeaderElector, type LeaderRole } from './leader.js';

/**
 * N tasks split the shards by one lease per shard (issue 16 item 5). Each shard's lease is an ordinary
 * leader lease (src/pipeline/leader.ts: own fencing token on every step claim, acting only within 90 % of
 * the TTL by the monotonic clock); this class decides which of them a task tries to hold.
 *
 * A task holds at most its fair share, ceil(shards / live tasks), so three tasks spread the work instead
 * of the first one taking everything. Live tasks are counted from a member record in the store (one
 * compare-and-set value: task → heartbeat expiry, renewed with the leases, an expired entry pruned by
 * whoever writes next). A task above its share (another task joined) releases its surplus; a task below it
 * takes free or expired shards. A dead task's entry and leases expire together, so its shards are taken
 * over just after its last lease ends, i.e. within the TTL of its last renewal.
 */

/** The store key of the member record. */
export const MEMBERS_KEY = 'shard.members';

/** Live tasks by owner id: the wall time their heartbeat ends. */
type Members = Record<string, number>;

export interface ShardLeaseSpec {
  /** `account/region`. */
  readonly key: string;
  /** `shard:<account id>:<region>:<n>`. */
  readonly lease: string;
}

export interface ShardLeasesOptions {
  readonly store: LeaseStore & Pick<Store, 'getValueVersioned' | 'compareAndSetValue'>;
  readonly owner: string;
  readonly shards: readonly ShardLeaseSpec[];
  /** TTL of every shard lease and of the member heartbeat (wall ms). */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly monotonic: MonotonicClock;
  readonly logger: Logger;
  /** Whether a holder has certainly ended (same machine, pid gone): its leases and member entry are taken at once. */
  readonly ownerDead?: (owner: string) => boolean;
}

export interface ShardRoleStatus {
  readonly key: string;
  readonly lease: string;
  readonly role: LeaderRole;
  readonly token: number | null;
  readonly holder: LeaseRecord | null;
  readonly why: string;
}

export interface ShardLeasesStatus {
  readonly owner: string;
  readonly liveTasks: number;
  readonly share: number;
  readonly shards: readonly ShardRoleStatus[];
}

interface Slot {
  readonly spec: ShardLeaseSpec;
  /** The elector of our current (or last) attempt; kept after a release so its old token still fences. */
  elector: LeaderElector | null;
  /** Whether `elector` was stopped (released): a new attempt needs a new elector. */
  released: boolean;
}

/** How many tries a heartbeat makes against concurrent writers of the member record. */
const HEARTBEAT_TRIES = 4;

export class ShardLeases {
  readonly owner: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  private readonly slots: Slot[];
  /** The shards in this task's order of preference: spread by the owner id so tasks do not all race for the first. */
  private readonly preference: Slot[];
  private liveTasks = 1;
  private stopped = false;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly o: ShardLeasesOptions) {
    if (o.shards.length === 0) throw new RangeError('no shards to lease');
    const names = new Set(o.shards.map((s) => s.lease));
    if (names.size !== o.shards.length) throw new RangeError('two shards share a lease name');
    this.owner = o.owner;
    this.ttlMs = o.ttlMs;
    this.renewEveryMs = Math.max(1, Math.floor(o.ttlMs / 3));
    this.slots = o.shards.map((spec) => ({ spec, elector: null, released: false }));
    const start = Number.parseInt(createHash('sha256').update(o.owner).digest('hex').slice(0, 8), 16) % this.slots.length;
    this.preference = [...this.slots.slice(start), ...this.slots.slice(0, start)];
  }

  /** The fair share: at most this many shards per task. */
  share(): number {
    return Math.ceil(this.slots.length / Math.max(1, this.liveTasks));
  }

  /** Whether this task may act on `key` now. */
  isLeader(key: string): boolean {
    return !this.stopped && (this.slot(key).elector?.isLeader() ?? false);
  }

  /** The stage gate of one shard's pipeline: null while this task holds the shard, otherwise why not. */
  gate(key: string): StageGate {
    const slot = this.slot(key);
    return async () => {
      if (this.isLeader(key)) return null;
      if (slot.released) return `not holding shard ${key}: released to another task (fair share ${this.share()})`;
      return slot.elector ? slot.elector.status().why.replace('not the leader', `not holding shard ${key}`) : `not holding shard ${key}: this task's share (${this.share()}) is taken by other shards`;
    };
  }

  /** The fencing token of one shard's step claims (0, refused by the store, before the shard was ever held). */
  fence(key: string): LeaseFence {
    const slot = this.slot(key);
    return slot.elector?.fence() ?? { lease: slot.spec.lease, token: 0 };
  }

  /** The shards this task holds now. */
  held(): string[] {
    return this.slots.filter((s) => this.isLeader(s.spec.key)).map((s) => s.spec.key);
  }

  status(): ShardLeasesStatus {
    return {
      owner: this.owner,
      liveTasks: this.liveTasks,
      share: this.share(),
      shards: this.slots.map((s) => {
        const st = s.elector?.status();
        const leader = this.isLeader(s.spec.key);
        return { key: s.spec.key, lease: s.spec.lease, role: leader ? 'leader' : 'follower', token: st?.token ?? null, holder: st?.holder ?? null, why: st?.why ?? 'not tried: this task\'s share is taken by other shards' };
      }),
    };
  }

  private slot(key: string): Slot {
    const s = this.slots.find((x) => x.spec.key === key);
    if (!s) throw new RangeError(`unknown shard ${key}`);
    return s;
  }

  private newElector(spec: ShardLeaseSpec): LeaderElector {
    return new LeaderElector({
      store: this.o.store,
      owner: this.owner,
      lease: spec.lease,
      ttlMs: this.ttlMs,
      clock: this.o.clock,
      monotonic: this.o.monotonic,
      logger: this.o.logger.child({ shard: spec.key }),
      ...(this.o.ownerDead ? { ownerDead: this.o.ownerDead } : {}),
    });
  }

  /**
   * Renews this task's member entry and counts the live tasks. A failed heartbeat keeps the last count:
   * the leases, not the count, are what keep two tasks from acting on one shard.
   */
  private async heartbeat(signal: AbortSignal): Promise<void> {
    const dead = this.o.ownerDead ?? (() => false);
    for (let i = 0; i < HEARTBEAT_TRIES && !signal.aborted; i++) {
      try {
        const cur = await this.o.store.getValueVersioned<Members>(MEMBERS_KEY, { signal });
        const now = this.o.clock.now();
        const members: Members = {};
        for (const [owner, until] of Object.entries(cur?.value ?? {})) if (until > now && owner !== this.owner && !dead(owner)) members[owner] = until;
        members[this.owner] = now + this.ttlMs;
        const r = await this.o.store.compareAndSetValue(MEMBERS_KEY, cur?.version ?? null, members, { signal });
        if (r.ok) {
          this.liveTasks = Object.keys(members).length;
          return;
        }
      } catch (err) {
        this.o.logger.warn({ stage: 'lease', err: errorMessage(err) }, 'shard member heartbeat failed; the last count of live tasks is kept');
        return;
      }
    }
  }

  /**
   * One pass: heartbeat, renew what we hold, give up the surplus over our share, then try free or expired
   * shards (in our order of preference) until we hold our share.
   */
  async round(signal: AbortSignal = this.stopper.signal): Promise<ShardLeasesStatus> {
    if (this.stopped) return this.status();
    await this.heartbeat(signal);
    for (const s of this.slots) if (s.elector && !s.released && s.elector.isLeader()) await s.elector.renew(signal);
    const share = this.share();
    const mine = this.preference.filter((s) => this.isLeader(s.spec.key));
    // The least preferred go first, so each task keeps the shards it would have picked.
    for (const s of mine.slice(share).reverse()) await this.release(s, `this task holds ${mine.length} shards, above its share of ${share}`);
    let holding = Math.min(mine.length, share);
    for (const s of this.preference) {
      if (holding >= share || signal.aborted) break;
      if (this.isLeader(s.spec.key)) continue;
      if (!s.elector || s.released) {
        s.elector = this.newElector(s.spec);
        s.released = false;
      }
      if ((await s.elector.renew(signal)).role === 'leader') holding++;
    }
    return this.status();
  }

  private async release(s: Slot, why: string): Promise<void> {
    this.o.logger.info({ stage: 'lease', shard: s.spec.key, lease: s.spec.lease, why }, 'releasing a shard for another task');
    s.released = true;
    await s.elector?.stop();
  }

  /**
   * When to run the next pass: every third of the TTL, or just after the earliest expiry of a shard held
   * by another task while we are below our share (a dead task's shards are taken as soon as they expire).
   */
  nextRoundInMs(): number {
    const now = this.o.clock.now();
    let next = this.renewEveryMs;
    for (const s of this.slots) {
      if (this.isLeader(s.spec.key)) continue;
      const h = s.elector?.status().holder;
      if (h && h.owner !== this.owner && h.expiresAt > 0) next = Math.min(next, Math.max(EXPIRY_MARGIN_MS, h.expiresAt - now + EXPIRY_MARGIN_MS));
    }
    return next;
  }

  /**
   * Runs passes until `stop()` (or until `signal` aborts, without releasing anything: what a crashed task
   * leaves behind). The first pass is the caller's (`round()` before start).
   */
  start(signal?: AbortSignal): void {
    if (this.loop || this.stopped) return;
    const s = signal ? AbortSignal.any([signal, this.stopper.signal]) : this.stopper.signal;
    this.loop = (async () => {
      while (!s.aborted) {
        try {
          await this.o.clock.sleep(this.nextRoundInMs(), s);
        } catch {
          return;
        }
        await this.round(s);
      }
    })();
  }

  /** Stops, releases every shard held and leaves the member record, so other tasks take over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopper.abort(new Error('shutting down'));
    await this.loop;
    for (const s of this.slots) if (s.elector && !s.released) await s.elector.stop();
    const deadline = AbortSignal.timeout(Math.max(100, Math.floor(this.ttlMs / 4)));
    try {
      for (let i = 0; i < HEARTBEAT_TRIES; i++) {
        const cur = await this.o.store.getValueVersioned<Members>(MEMBERS_KEY, { signal: deadline });
        if (!cur || !(this.owner in cur.value)) return;
        const rest = Object.fromEntries(Object.entries(cur.value).filter(([o]) => o !== this.owner));
        if ((await this.o.store.compareAndSetValue(MEMBERS_KEY, cur.version, rest, { signal: deadline })).ok) return;
      }
    } catch (err) {
      this.o.logger.warn({ stage: 'lease', err: errorMessage(err) }, 'could not leave the shard member record; the entry expires by itself');
    }
  }
}

/** /metrics: this task's role per shard (1 leader, 0 follower), labelled by shard, and the live task count. */
export function registerShardMetrics(registry: Registry, status: () => ShardLeasesStatus): void {
  new Gauge({
    name: 'cloudops_shard_leader',
    help: '1 while this task holds the shard lease (account/region), 0 otherwise',
    labelNames: ['shard', 'lease'],
    registers: [registry],
    collect() {
      for (const s of status().shards) this.set({ shard: s.key, lease: s.lease }, s.role === 'leader' ? 1 : 0);
    },
  });
  new Gauge({ name: 'cloudops_shard_live_tasks', help: 'Tasks this one counts as live (the member record)', registers: [registry], collect() { this.set(status().liveTasks); } });
}
