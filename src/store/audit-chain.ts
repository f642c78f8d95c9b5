import { createHash } from 'node:crypto';
import { canonicalJson } from '../runbook/runbook.js';
import type { AuditInput, AuditRecord, AuditVerification } from './store.js';

export const GENESIS_HASH = 'sha256:' + '0'.repeat(64);

/** The hash of one audit record: it covers its content and the hash of the record before it. */
export function auditHash(seq: number, prevHash: string, entry: AuditInput): string {
  const body = canonicalJson({ seq, prevHash, at: entry.at, incidentId: entry.incidentId, kind: entry.kind, actor: entry.actor, data: entry.data });
  return 'sha256:' + createHash('sha256').update(body).digest('hex');
}

export function chainRecord(seq: number, prevHash: string, entry: AuditInput): AuditRecord {
  return { ...entry, seq, prevHash, hash: auditHash(seq, prevHash, entry) };
}

/** Walks the chain in order and names the first record whose hash or link does not hold. */
export function verifyChain(records: Iterable<AuditRecord>): AuditVerification {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let n = 0;
  for (const r of records) {
    n++;
    if (r.seq !== expectedSeq) return { ok: false, records: n, firstBadSeq: r.seq, problem: `expected record ${expectedSeq}, found ${r.seq} (a record was removed or inserted)` };
    if (r.prevHash !== prev) return { ok: false, records: n, firstBadSeq: r.seq, problem: 'its link to the previous record does not match' };
    const h = auditHash(r.seq, r.prevHash, r);
    if (h !== r.hash) return { ok: false, records: n, firstBadSeq: r.seq, problem: 'its content does not match its hash (the record was altered)' };
    prev = r.hash;
    expectedSeq++;
  }
  return { ok: true, records: n };
}
