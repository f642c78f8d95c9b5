import type { RunPhase } from './run-state.js';

export interface ReadinessInput {
  readonly phase: RunPhase;
  /** Monotonic ms of the last successful cycle, or null. */
  readonly lastSuccessMono: number | null;
  readonly lastError: string | null;
  /** Monotonic ms now. */
  readonly nowMono: number;
  /** Oldest acceptable last success, in wall ms (policy multiple × poll interval, at the clock's speed). */
  readonly maxAgeMs: number;
  /** The leader lease, when the daemon runs behind one: whether this process acts, and why (not). */
  readonly leader?: { readonly role: 'leader' | 'follower'; readonly why: string };
  /** Sources whose last call failed ("degraded: metrics (throttled, …)"), or empty. */
  readonly degraded?: string;
}

export interface Readiness {
  readonly ok: boolean;
  readonly why: string;
  /** leader or follower, when the daemon runs behind a lease. */
  readonly role?: 'leader' | 'follower';
}

/**
 * Whether the daemon is ready (/readyz), with the reason and its role behind the lease. A follower is
 * ready (it serves pages and records decisions, which the leader acts on); its reason says it follows. Ready while running and the last successful
 * cycle is recent; one failed cycle alone does not flip it (it would flap), a stalled schedule does.
 * Ages are monotonic, so a wall-clock step never makes a stale daemon look fresh. Pure.
 */
export function readiness(r: ReadinessInput): Readiness {
  const cycle = cycleReadiness(r);
  // A degraded source is said, not failed on: the daemon keeps cycling on what still answers.
  const base = r.degraded ? { ok: cycle.ok, why: `${cycle.why}; ${r.degraded}` } : cycle;
  if (!r.leader) return base;
  return { ok: base.ok, why: `${base.why}; ${r.leader.why}`, role: r.leader.role };
}

function cycleReadiness(r: ReadinessInput): { readonly ok: boolean; readonly why: string } {
  if (r.phase !== 'running') return { ok: false, why: `the daemon is ${r.phase}` };
  if (r.lastSuccessMono === null) return { ok: false, why: r.lastError ? `no poll cycle has succeeded yet (last: ${r.lastError})` : 'no poll cycle has succeeded yet' };
  const age = Math.max(0, r.nowMono - r.lastSuccessMono);
  const s = (ms: number): number => Math.round(ms / 100) / 10;
  if (age > r.maxAgeMs) return { ok: false, why: `the last successful cycle was ${s(age)} s ago (limit ${s(r.maxAgeMs)} s)${r.lastError ? `; last cycle: ${r.lastError}` : ''}` };
  return { ok: true, why: `last successful cycle ${s(age)} s ago` };
}

/** One shard's readiness (a policy with `accounts`): its pipeline's cycles and this task's role for it. */
export interface ShardReadiness extends Readiness {
  readonly shard: string;
}

/**
 * A task's readiness over its shards: ready when every shard's pipeline is (a shard it follows is ready
 * as a follower is); leader when it holds at least one shard; the reason names each shard. Pure.
 */
export function shardReadiness(shards: readonly ShardReadiness[]): Readiness & { readonly shards: readonly ShardReadiness[] } {
  const ok = shards.length > 0 && shards.every((s) => s.ok);
  const role = shards.some((s) => s.role === 'leader') ? 'leader' : 'follower';
  return { ok, why: shards.map((s) => `${s.shard}: ${s.why}`).join(' | '), role, shards };
}
