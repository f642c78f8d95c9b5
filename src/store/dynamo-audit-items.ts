import { createHash } from 'node:crypto';
import type { EpochMs } from '../core/time.js';
import { canonicalJson } from '../runbook/runbook.js';
import type { AuditCheckpoint, AuditSummary } from './audit-chain.js';
import { decodeSmall, encodeSmall } from './dynamo-blob.js';
import { B, key, N, num, pad, S, str, type Item } from './dynamo-table.js';
import type { AuditRecord } from './store.js';

/**
 * How the audit trail lies in the table (see dynamo-table.ts): records under AUD#<chain>, each chain's
 * signed head under AUDHEAD, the signed global checkpoint under AUDCP, and under AUDSUM the signed summary
 * of a chain's records removed past their retention (all of an ended incident's chain, or the oldest
 * records of the global chain).
 */
export const GLOBAL_CHAIN = 'global';
export const chainOf = (incidentId: string | null): string => (incidentId === null ? GLOBAL_CHAIN : `inc:${incidentId}`);
/** The incident a chain belongs to, or null for the global chain. */
export const incidentOfChain = (chain: string): string | null => (chain.startsWith('inc:') ? chain.slice(4) : null);
export const RECORD_PK = 'AUD#';
export const HEADS_PK = 'AUDHEAD';
export const CHECKPOINT_PK = 'AUDCP';
export const SUMMARY_PK = 'AUDSUM';
const SEQ_WIDTH = 12;
export const recordKey = (chain: string, seq: number) => key(`${RECORD_PK}${chain}`, pad(seq, SEQ_WIDTH));

export type Head = { readonly seq: number; readonly hash: string; readonly checkpoint: AuditCheckpoint };

export function recordItem(chain: string, record: AuditRecord): Item {
  const data = encodeSmall(record.data, `audit record ${record.kind}`);
  return {
    ...recordKey(chain, record.seq),
    seq: N(record.seq),
    at: N(record.at),
    kind: S(record.kind),
    actor: S(record.actor),
    prevHash: S(record.prevHash),
    hash: S(record.hash),
    ...('text' in data ? { data: S(data.text) } : { dataz: B(data.packed) }),
    ...(record.incidentId !== null ? { incidentId: S(record.incidentId) } : {}),
  };
}

export function recordOf(item: Item): AuditRecord {
  return {
    seq: num(item, 'seq'),
    at: num(item, 'at') as EpochMs,
    incidentId: item['incidentId']?.S ?? null,
    kind: str(item, 'kind'),
    actor: str(item, 'actor'),
    data: decodeSmall<Record<string, unknown>>(item['data']?.S, item['dataz']?.B),
    prevHash: str(item, 'prevHash'),
    hash: str(item, 'hash'),
  };
}

/** A checkpoint's attributes (a head, the global checkpoint's meta item). */
export const checkpointAttributes = (cp: AuditCheckpoint): Item => ({ seq: N(cp.seq), hash: S(cp.hash), at: N(cp.at), ...(cp.keyId ? { keyId: S(cp.keyId) } : {}), ...(cp.mac ? { mac: S(cp.mac) } : {}) });

export function headOf(item: Item): Head {
  const checkpoint: AuditCheckpoint = { seq: num(item, 'seq'), hash: str(item, 'hash'), at: num(item, 'at'), keyId: item['keyId']?.S ?? null, mac: item['mac']?.S ?? null };
  return { seq: checkpoint.seq, hash: checkpoint.hash, checkpoint };
}

export const summaryItem = (s: AuditSummary): Item => ({ ...key(SUMMARY_PK, s.chain), chain: S(s.chain), ...checkpointAttributes(s) });

/** A stored summary; the chain it names is the one it was signed for (the sort key is only where it lies). */
export const summaryOf = (item: Item): AuditSummary => ({ ...headOf(item).checkpoint, chain: item['chain']?.S ?? '' });

/** The digest the global checkpoint signs: every chain's [name, head seq, head hash], sorted by name. */
export const digestOf = (heads: readonly (readonly [string, number, string])[]): string => 'sha256:' + createHash('sha256').update(canonicalJson(heads)).digest('hex');
