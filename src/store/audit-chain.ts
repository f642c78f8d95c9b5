import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
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

/** Where a chain begins: the genesis, or the last record a signed summary says was removed before it. */
export interface ChainStart {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Walks the chain in order and names the first record whose hash or link does not hold. With `start`
 * the chain continues a removed prefix: its first record must be `start.seq + 1`, linked to `start.hash`.
 */
export function verifyChain(records: Iterable<AuditRecord>, start: ChainStart = { seq: 0, hash: GENESIS_HASH }): AuditVerification {
  let prev = start.hash;
  let expectedSeq = start.seq + 1;
  let n = 0;
  for (const r of records) {
    n++;
    if (r.seq !== expectedSeq) return { ok: false, records: n, firstBadSeq: r.seq, problem: `expected record ${expectedSeq}, found ${r.seq} (a record was removed or inserted${n === 1 && start.seq === 0 && r.seq > 1 ? ', and no signed summary covers the records before it' : ''})` };
    if (r.prevHash !== prev) return { ok: false, records: n, firstBadSeq: r.seq, problem: n === 1 && start.seq > 0 ? `its link does not match the last record the signed summary of the removed records names (${start.seq})` : 'its link to the previous record does not match' };
    const h = auditHash(r.seq, r.prevHash, r);
    if (h !== r.hash) return { ok: false, records: n, firstBadSeq: r.seq, problem: 'its content does not match its hash (the record was altered)' };
    prev = r.hash;
    expectedSeq++;
  }
  return { ok: true, records: n };
}

/**
 * The chain alone cannot show that its end was cut off: a shorter chain is still a valid chain. So every
 * write also stores a checkpoint of the head (last seq and hash), HMAC-signed with a key that lives in the
 * environment, never in the database. Someone who deletes the last records cannot sign a checkpoint that
 * matches the shorter chain; deleting the checkpoint too is reported as well. Replaying an older signed
 * checkpoint is only caught by a copy outside the file: see `AuditCheckpointSink`.
 */
export const AUDIT_KEY_ENV = 'CLOUDOPS_AUDIT_KEY';
const CHECKPOINT_CONTEXT = 'cloudops-audit-checkpoint:v1';

export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
  /** Which key signed it (a short hash of the key), or null when unsigned (no key configured). */
  readonly keyId: string | null;
  readonly mac: string | null;
}

/** Publishes checkpoints outside the store (a CloudWatch Logs stream, an S3 bucket with Object Lock). */
export interface AuditCheckpointSink {
  publish(checkpoint: AuditCheckpoint, signal: AbortSignal): Promise<void>;
  /** The newest checkpoint published, or null: `audit verify` compares it with the store's. */
  latest(signal: AbortSignal): Promise<AuditCheckpoint | null>;
}

/** The key from the environment's value; too short a key is refused rather than used. */
export function auditKeyFrom(value: string | undefined): Buffer | null {
  if (value === undefined || value === '') return null;
  const key = Buffer.from(value, 'utf8');
  if (key.length < 32) throw new Error(`${AUDIT_KEY_ENV} must be at least 32 bytes (got ${key.length})`);
  return key;
}

const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 12);
const macOf = (key: Buffer, seq: number, hash: string, at: number): string =>
  createHmac('sha256', key).update(`${CHECKPOINT_CONTEXT}\n${seq}\n${hash}\n${at}`).digest('hex');

export function signCheckpoint(key: Buffer | null, head: { readonly seq: number; readonly hash: string; readonly at: number }): AuditCheckpoint {
  if (!key) return { ...head, keyId: null, mac: null };
  return { ...head, keyId: keyIdOf(key), mac: macOf(key, head.seq, head.hash, head.at) };
}

/**
 * A signed summary of removed audit records: `seq` and `hash` of the last record removed (records
 * 1..seq are gone; the trail goes on at seq + 1, linked to `hash`). Signed under its own context, so a
 * head checkpoint cannot be passed off as a summary (that would make a cut-off trail look pruned).
 */
export interface AuditSummary extends AuditCheckpoint {
  readonly chain: string;
}
const SUMMARY_CONTEXT = 'cloudops-audit-summary:v1';
const summaryMacOf = (key: Buffer, chain: string, seq: number, hash: string, at: number): string =>
  createHmac('sha256', key).update(`${SUMMARY_CONTEXT}\n${chain}\n${seq}\n${hash}\n${at}`).digest('hex');

/** Signs a summary; records may only be removed under one, so there is no unsigned summary. */
export function signSummary(key: Buffer, s: { readonly chain: string; readonly seq: number; readonly hash: string; readonly at: number }): AuditSummary {
  return { ...s, keyId: keyIdOf(key), mac: summaryMacOf(key, s.chain, s.seq, s.hash, s.at) };
}

/** Why the summary cannot be trusted with `key` (unsigned, another key, forged or altered), or null. */
export function summaryProblem(key: Buffer | null, s: AuditSummary): { readonly problem: string; readonly missingKey: boolean } | null {
  if (!s.mac) return { problem: `the summary of removed records 1–${s.seq} is unsigned: records may only be removed under a signed summary`, missingKey: false };
  if (!key) return { problem: `records 1–${s.seq} were removed under a summary signed with key ${s.keyId ?? '?'}; set ${AUDIT_KEY_ENV} to verify it`, missingKey: true };
  if (s.keyId !== keyIdOf(key)) return { problem: `the summary of removed records was signed with another key (${s.keyId ?? '?'}, not ${keyIdOf(key)})`, missingKey: false };
  const want = Buffer.from(summaryMacOf(key, s.chain, s.seq, s.hash, s.at), 'hex');
  const got = Buffer.from(s.mac, 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { problem: `the summary of removed records 1–${s.seq} does not verify (it was forged or altered)`, missingKey: false };
  return null;
}

/** Why the checkpoint cannot be trusted with `key`, or null. `missing_key`: signed, but no key to check it. */
export function checkpointProblem(key: Buffer | null, cp: AuditCheckpoint): { readonly problem: string; readonly missingKey: boolean } | null {
  if (!cp.mac) return key ? { problem: 'the checkpoint is unsigned although a key is configured (it may have been rewritten)', missingKey: false } : null;
  if (!key) return { problem: `the checkpoint is signed (key ${cp.keyId ?? '?'}); set ${AUDIT_KEY_ENV} to verify it`, missingKey: true };
  if (cp.keyId !== keyIdOf(key)) return { problem: `the checkpoint was signed with another key (${cp.keyId ?? '?'}, not ${keyIdOf(key)})`, missingKey: false };
  const want = Buffer.from(macOf(key, cp.seq, cp.hash, cp.at), 'hex');
  const got = Buffer.from(cp.mac, 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { problem: 'the checkpoint signature does not verify (it was forged or altered)', missingKey: false };
  return null;
}

export type AnchoredVerification =
  | { readonly ok: true; readonly records: number; readonly anchor: 'signed' | 'unsigned' | 'empty'; readonly summarized?: { readonly through: number; readonly at: number } }
  | { readonly ok: false; readonly records: number; readonly firstBadSeq: number; readonly problem: string; readonly cannotVerify?: true };

/**
 * The chain walk plus its anchor: the checkpoint must verify, name exactly the last record, and exist
 * whenever records (or incidents) do. With `summary` (records removed past retention) the summary must
 * verify too, and the trail must go on exactly where it says the removed records ended.
 */
export function verifyAnchored(records: Iterable<AuditRecord>, checkpoint: AuditCheckpoint | null, key: Buffer | null, incidents: number, summary: AuditSummary | null = null): AnchoredVerification {
  if (summary) {
    const bad = summaryProblem(key, summary);
    if (bad) return { ok: false, records: 0, firstBadSeq: summary.seq, problem: bad.problem, ...(bad.missingKey ? { cannotVerify: true as const } : {}) };
  }
  const start: ChainStart = summary ? { seq: summary.seq, hash: summary.hash } : { seq: 0, hash: GENESIS_HASH };
  let last: AuditRecord | null = null;
  let atCheckpoint: AuditRecord | null = null;
  const tracked = (function* () {
    for (const r of records) {
      last = r;
      if (checkpoint && r.seq === checkpoint.seq) atCheckpoint = r;
      yield r;
    }
  })();
  const chain = verifyChain(tracked, start);
  if (!chain.ok) return chain;
  const n = chain.records;
  // The last seq the trail reaches (records before start.seq were removed under the summary).
  const reached = start.seq + n;
  const head = last as AuditRecord | null;
  if (!checkpoint) {
    if (n > 0) return { ok: false, records: n, firstBadSeq: reached, problem: 'no checkpoint anchors the chain head (it was deleted, or the records were written around the store)' };
    if (incidents > 0) return { ok: false, records: 0, firstBadSeq: 1, problem: `the audit trail is empty but ${incidents} incident(s) exist: the records were removed` };
    return { ok: true, records: 0, anchor: 'empty' };
  }
  const bad = checkpointProblem(key, checkpoint);
  if (bad) return { ok: false, records: n, firstBadSeq: Math.min(n + 1, checkpoint.seq), problem: bad.problem, ...(bad.missingKey ? { cannotVerify: true as const } : {}) };
  const when = new Date(checkpoint.at).toISOString();
  if (reached < checkpoint.seq) {
    return { ok: false, records: n, firstBadSeq: reached + 1, problem: `truncated: the trail ends at record ${reached} but the checkpoint of ${when} covers ${checkpoint.seq} (records ${reached + 1}–${checkpoint.seq} were removed)` };
  }
  const anchored = atCheckpoint as AuditRecord | null;
  if (!anchored || anchored.hash !== checkpoint.hash) return { ok: false, records: n, firstBadSeq: checkpoint.seq, problem: `record ${checkpoint.seq} is not the one the checkpoint of ${when} anchors (the chain was rewritten)` };
  if (head && head.seq > checkpoint.seq) return { ok: false, records: n, firstBadSeq: checkpoint.seq + 1, problem: `records ${checkpoint.seq + 1}–${head.seq} come after the checkpoint: they were not written by the store` };
  return { ok: true, records: n, anchor: checkpoint.mac ? 'signed' : 'unsigned', ...(summary ? { summarized: { through: summary.seq, at: summary.at } } : {}) };
}
