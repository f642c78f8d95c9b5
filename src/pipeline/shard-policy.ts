import type { CompiledPolicy, CompiledShard } from '../policy/compile.js';

/**
 * The policy as one shard's pipeline sees it (issue 16 item 5): only the shard's services and their
 * metrics, so observing, log watching, evidence and silences never reach into another account's or
 * region's services. Everything else (approvers, actions, safety) is the policy's, shared by all shards.
 */
export function shardPolicy(policy: CompiledPolicy, shard: CompiledShard): CompiledPolicy {
  if (shard.lease === null) return policy; // a policy without `accounts`: its one shard is the whole policy
  const held = new Set(shard.services);
  const services = Object.fromEntries(Object.entries(policy.doc.services).filter(([svc]) => held.has(svc)));
  return {
    ...policy,
    doc: { ...policy.doc, services, metrics: policy.doc.metrics.filter((m) => held.has(m.service)) },
    metrics: shard.metrics,
    shards: [shard],
  };
}
