import type { Decision } from '../incident/incident.js';
import { auditHash } from '../store/audit-chain.js';
import type { AuditRecord } from '../store/store.js';

export interface UnattestedDecision {
  readonly decision: Decision;
  readonly why: string;
}

export interface Attestation {
  /** Decisions backed by a `decision.recorded` audit record that says the same and hashes true. */
  readonly attested: readonly Decision[];
  readonly unattested: readonly UnattestedDecision[];
}

/**
 * Splits decisions by whether the audit trail vouches for them. `recordDecision` writes the decision
 * row and its audit record in one transaction, so a decision without a matching record was written
 * around the code (a row inserted in the database). Pure: `audit` is the incident's records.
 */
export function attestDecisions(decisions: readonly Decision[], audit: readonly AuditRecord[]): Attestation {
  const records = audit.filter((r) => r.kind === 'decision.recorded');
  const attested: Decision[] = [];
  const unattested: UnattestedDecision[] = [];
  for (const d of decisions) {
    const rec = records.find((r) => r.incidentId === d.incidentId && r.actor === d.approver && r.at === d.at && r.data['runbookHash'] === d.runbookHash && r.data['verdict'] === d.verdict);
    if (!rec) unattested.push({ decision: d, why: `no audit record of ${d.approver}'s ${d.verdict}` });
    else if (auditHash(rec.seq, rec.prevHash, rec) !== rec.hash) unattested.push({ decision: d, why: `the audit record of ${d.approver}'s ${d.verdict} (#${rec.seq}) does not match its hash` });
    else if (rec.data['identity'] !== d.identity || rec.data['channel'] !== d.channel) unattested.push({ decision: d, why: `the audit record of ${d.approver}'s ${d.verdict} names another identity or channel` });
    else attested.push(d);
  }
  return { attested, unattested };
}
