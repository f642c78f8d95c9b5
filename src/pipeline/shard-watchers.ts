import type { DecisionRequest } from '../approval/record-decision.js';
import { incidentPlace } from '../incident/incident.js';
import type { CompiledPolicy, CompiledShard } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import type { CycleOutcome, Watcher } from './watcher.js';

/**
 * One task's pipelines, one Watcher per shard (issue 16 item 5). Every task runs a cycle of every shard;
 * the shards it does not hold are held back by their gate at no cost. A decision may land on any task:
 * it goes to the Watcher of the incident's own shard, whose ports are that account's and region's (the
 * shard's leader acts on it; anyone else only records it).
 */
export class ShardWatchers {
  constructor(
    private readonly policy: CompiledPolicy,
    private readonly store: Store,
    readonly watchers: ReadonlyMap<string, Watcher>,
  ) {
    for (const s of policy.shards) if (!watchers.has(s.key)) throw new RangeError(`no pipeline for shard ${s.key}`);
  }

  /** The shard an incident belongs to (by its account and region; older incidents: the policy's `account`). */
  shardOf(inc: { account?: string; region?: string }): CompiledShard | null {
    const p = incidentPlace(inc, this.policy.doc.account);
    return this.policy.shards.find((s) => s.account.name === p.account && s.region === p.region) ?? null;
  }

  /** The Watcher that owns incident `id`; the first shard's when the incident is unknown (it refuses it then). */
  async watcherFor(id: string): Promise<Watcher> {
    const inc = await this.store.getIncident(id);
    const shard = inc ? this.shardOf(inc) : null;
    return this.watchers.get(shard?.key ?? this.policy.shards[0]?.key ?? '') ?? [...this.watchers.values()][0]!;
  }

  decide(req: DecisionRequest): ReturnType<Watcher['decide']> {
    return this.watcherFor(req.incidentId).then((w) => w.decide(req));
  }

  /** One cycle of every shard, one after another (a task's shards never overlap each other's cycles). */
  async cycle(): Promise<CycleOutcome[]> {
    const out: CycleOutcome[] = [];
    for (const w of this.watchers.values()) out.push(await w.cycle());
    return out;
  }

  /** A cycle of every shard and the drafts it started (replays and tests). */
  async runCycle(): Promise<void> {
    for (const w of this.watchers.values()) await w.runCycle();
  }

  async drain(): Promise<void> {
    await Promise.all([...this.watchers.values()].map((w) => w.drain()));
  }

  beginDrain(): void {
    for (const w of this.watchers.values()) w.beginDrain();
  }

  stop(): void {
    for (const w of this.watchers.values()) w.stop();
  }
}
