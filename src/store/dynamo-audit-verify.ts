import { checkpointProblem, verifyAnchored, type AnchoredVerification, type AuditSummary } from './audit-chain.js';
import { decodeDoc } from './dynamo-blob.js';
import { chainOf, CHECKPOINT_PK, digestOf, headOf, HEADS_PK, RECORD_PK, recordOf, SUMMARY_PK, summaryOf, type Head } from './dynamo-audit-items.js';
import { num, str, type Item } from './dynamo-table.js';
import type { AuditRecord } from './store.js';

/** The audit items of a whole table, sorted into what `verifyAuditScan` checks. */
export interface AuditScan {
  readonly records: Map<string, AuditRecord[]>;
  readonly heads: Map<string, Head>;
  readonly summaries: Map<string, AuditSummary>;
  global: Item | null;
  readonly globalParts: Item[];
  incidents: number;
}

export const emptyScan = (): AuditScan => ({ records: new Map(), heads: new Map(), summaries: new Map(), global: null, globalParts: [], incidents: 0 });

/** Files one scanned item into `scan` (items that are not part of the trail only count incidents). */
export function addScanned(scan: AuditScan, item: Item): void {
  const pk = str(item, 'pk');
  const sk = str(item, 'sk');
  if (pk.startsWith(RECORD_PK)) {
    const chain = pk.slice(RECORD_PK.length);
    const list = scan.records.get(chain) ?? [];
    list.push(recordOf(item));
    scan.records.set(chain, list);
  } else if (pk === HEADS_PK) scan.heads.set(sk, headOf(item));
  else if (pk === SUMMARY_PK) scan.summaries.set(sk, summaryOf(item));
  else if (pk === CHECKPOINT_PK) {
    if (sk === 'GLOBAL') scan.global = item;
    else scan.globalParts.push(item);
  } else if (pk.startsWith('INC#') && sk === 'META') scan.incidents++;
}

/**
 * Every chain walked and anchored by its head (from its signed summary on, where records were removed past
 * their retention), then the global checkpoint: signed, its list intact, and every chain it lists still
 * present with the record it names, or removed under a signed summary that covers that record.
 */
export function verifyAuditScan(scan: AuditScan, key: Buffer | null): AnchoredVerification {
  let total = 0;
  const chains = [...new Set([...scan.records.keys(), ...scan.heads.keys(), ...scan.summaries.keys()])].sort();
  for (const chain of chains) {
    const v = verifyOneChain(chain, scan, key);
    if (!v.ok) return { ...v, records: total + v.records, problem: `chain ${chain}: ${v.problem}` };
    total += v.records;
  }
  if (chains.length === 0) {
    if (scan.incidents > 0) return { ok: false, records: 0, firstBadSeq: 1, problem: `the audit trail is empty but ${scan.incidents} incident(s) exist: the records were removed` };
    if (!scan.global) return { ok: true, records: 0, anchor: 'empty' };
  }
  const g = scan.global;
  if (!g) return { ok: false, records: total, firstBadSeq: 1, problem: 'no global checkpoint lists the chains (it was deleted, or the records were written around the store)' };
  const cp = headOf(g).checkpoint;
  const bad = checkpointProblem(key, cp);
  if (bad) return { ok: false, records: total, firstBadSeq: 1, problem: `global checkpoint: ${bad.problem}`, ...(bad.missingKey ? { cannotVerify: true as const } : {}) };
  const when = new Date(cp.at).toISOString();
  let listed: [string, number, string][];
  try {
    const parts = scan.globalParts.filter((p) => num(p, 'at') === cp.at).sort((a, b) => (str(a, 'sk') < str(b, 'sk') ? -1 : 1));
    listed = decodeDoc(num(g, 'parts') > 0 ? parts.map((p) => p['part']?.B ?? new Uint8Array()) : [g['doc']?.B ?? new Uint8Array()]);
  } catch {
    return { ok: false, records: total, firstBadSeq: 1, problem: `the global checkpoint of ${when} cannot be read (its list was altered or lost)` };
  }
  if (listed.length !== cp.seq || digestOf(listed) !== cp.hash) return { ok: false, records: total, firstBadSeq: 1, problem: `the global checkpoint of ${when} does not match its signed digest (its list was altered)` };
  for (const [chain, seq, hash] of listed) {
    const summary = scan.summaries.get(chain);
    if (summary && summary.seq >= seq) {
      // Removed past its retention under a summary verified above; the same record, if it names the same seq.
      if (summary.seq === seq && summary.hash !== hash) return { ok: false, records: total, firstBadSeq: seq, problem: `chain ${chain}: the summary of its removed records names another record ${seq} than the global checkpoint of ${when} (the chain was rewritten)` };
      continue;
    }
    const list = (scan.records.get(chain) ?? []).filter((r) => !summary || r.seq > summary.seq);
    if (list.length === 0) return { ok: false, records: total, firstBadSeq: 1, problem: `chain ${chain} was removed: the global checkpoint of ${when} lists it with ${seq} record(s)` };
    const at = list.find((r) => r.seq === seq);
    const end = Math.max(...list.map((r) => r.seq));
    if (!at) return { ok: false, records: total, firstBadSeq: end + 1, problem: `chain ${chain}: truncated: it ends at record ${end} but the global checkpoint of ${when} covers ${seq}` };
    if (at.hash !== hash) return { ok: false, records: total, firstBadSeq: seq, problem: `chain ${chain}: record ${seq} is not the one the global checkpoint of ${when} lists (the chain was rewritten)` };
  }
  return { ok: true, records: total, anchor: cp.mac ? 'signed' : 'unsigned' };
}

function verifyOneChain(chain: string, scan: AuditScan, key: Buffer | null): AnchoredVerification {
  let list = (scan.records.get(chain) ?? []).sort((a, b) => a.seq - b.seq);
  const stray = list.find((r) => chainOf(r.incidentId) !== chain);
  if (stray) return { ok: false, records: list.length, firstBadSeq: stray.seq, problem: `record ${stray.seq} belongs to ${chainOf(stray.incidentId)} (it was moved)` };
  let head = scan.heads.get(chain) ?? null;
  const summary = scan.summaries.get(chain) ?? null;
  if (summary) {
    if (summary.chain !== chain) return { ok: false, records: 0, firstBadSeq: summary.seq, problem: `its summary of removed records was signed for ${summary.chain || 'no chain'} (it was moved)` };
    // Records the summary covers are what a removal cut off (by a crash, or still going on) left behind.
    const named = list.find((r) => r.seq === summary.seq);
    if (named && named.hash !== summary.hash) return { ok: false, records: 0, firstBadSeq: summary.seq, problem: `record ${summary.seq} is not the one the summary of removed records names (the chain was rewritten)` };
    list = list.filter((r) => r.seq > summary.seq);
    // Removed whole, all but its head: the head names the very record the summary does.
    if (list.length === 0 && head && head.seq === summary.seq && head.hash === summary.hash) head = null;
  }
  return verifyAnchored(list, head?.checkpoint ?? null, key, 0, summary);
}
