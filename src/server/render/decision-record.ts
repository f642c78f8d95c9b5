import type { Decision, Incident } from '../../incident/incident.js';
import { decisiveReason } from '../../incident/correlate.js';
import { investigationLines } from '../../agent/investigation-lines.js';
import { planCostLine } from '../../runbook/plan-cost.js';
import type { AuditRecord, AuditVerification } from '../../store/store.js';
import { fmtTime, STATE_LABEL } from './html.js';

export interface DecisionRecordInput {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  readonly audit: readonly AuditRecord[];
  /** Decisions that do not count, with why. */
  readonly ignored?: readonly { readonly approver: string; readonly at: number; readonly why: string }[];
  /** The store's hash-chain check. */
  readonly verification: AuditVerification;
}

const num = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '?');

/**
 * The auditor's decision record of one incident (`cloudops show ID --record`): what was seen, the
 * suspect and why, how the runbook was drafted (planner, model, prompt hashes, tokens, tool calls), who
 * approved which runbook hash when and through which channel, each step with its result and timing,
 * verification, and the audit records with their hashes — ending with `audit: verified` or the first
 * bad record. Pure.
 */
export function decisionRecord(v: DecisionRecordInput): string[] {
  const i = v.incident;
  const out: string[] = [`decision record: ${i.id} (${i.service}) — ${STATE_LABEL[i.state] ?? i.state}`, `  ${i.reason}`, ''];
  out.push('seen:');
  for (const s of i.signals) out.push(`  ${s.metricName} (${s.metricId}) went ${s.direction} at ${fmtTime(s.startedAt)}: peak ${num(s.peakValue)}, expected ${num(s.expected)}, score ${num(s.peakScore)}; ${s.clearedAt !== null ? `cleared ${fmtTime(s.clearedAt)}` : 'not cleared'}`);
  for (const t of i.evidence?.templates.slice(0, 5) ?? []) out.push(`  log ${t.isNew ? 'new' : 'growing'}: "${t.template}" ${t.baselineCount} → ${t.onsetCount}`);
  out.push('', 'suspect:');
  const c = i.correlation;
  if (!c) out.push('  not correlated');
  else if (!c.suspect) out.push(`  none: ${c.verdict}`);
  else {
    const d = c.suspect.deployment;
    out.push(`  ${d.pipeline} revision ${d.revisionId ?? '?'}${d.revisionSummary ? ` "${d.revisionSummary}"` : ''} (execution ${d.id}), score ${num(c.suspect.score)}, triggered by ${d.triggeredBy ?? 'unknown'}`);
    for (const r of c.suspect.reasons) out.push(`    - ${r}`);
  }
  for (const o of c?.candidates.filter((x) => x.deployment.id !== c.suspect?.deployment.id).slice(0, 4) ?? []) out.push(`  also considered: ${o.deployment.pipeline} ${o.deployment.id} (score ${num(o.score)}): ${decisiveReason(o)}`);
  out.push('', 'plan:');
  const p = i.plan;
  if (!p) out.push('  no planner trace');
  else {
    out.push(`  planner ${p.planner}${p.modelId ? `, model ${p.modelId}` : ''}${p.tokens ? `, tokens ${p.tokens.input} in / ${p.tokens.output} out` : ''}${p.fallbackReason ? `, fallback because ${p.fallbackReason}` : ''}`);
    const cost = planCostLine(p);
    if (cost) out.push(`  spend: ${cost}`);
    for (const h of p.promptHashes) out.push(`  prompt ${h}`);
    if (p.toolCalls.length) out.push(`  tool calls: ${p.toolCalls.map((t) => `${t.tool} (${t.status})`).join(', ')}`);
    if (p.investigation) out.push(...investigationLines(p.investigation));
  }
  if (i.runbook) out.push(`  runbook "${i.runbook.title}" ${i.runbook.risk} risk, ${i.runbook.hash}`);
  out.push('', 'decisions:');
  if (v.decisions.length === 0) out.push('  none');
  for (const d of v.decisions) {
    const why = v.ignored?.find((x) => x.approver === d.approver && x.at === d.at)?.why;
    out.push(`  ${fmtTime(d.at)} ${d.approver} ${d.verdict} ${d.runbookHash} via ${d.channel} as ${d.identity}${d.verdict === 'approve' ? (why ? ` — not counted: ${why}` : '') : d.reason ? ` — "${d.reason}"` : ''}`);
  }
  out.push('', 'steps:');
  if (i.steps.length === 0) out.push('  nothing ran');
  for (const s of i.steps) out.push(`  ${s.index + 1}. ${s.action} ${s.status} ${fmtTime(s.startedAt)}${s.endedAt !== null ? ` → ${fmtTime(s.endedAt)} (${Math.round((s.endedAt - s.startedAt) / 1000)} s)` : ''} key ${s.idempotencyKey}${s.summary ? `: ${s.summary}` : ''}`);
  out.push('', 'verification:');
  out.push(i.verification ? `  started ${fmtTime(i.verification.startedAt)}, ${i.verification.healthyPolls} healthy polls, deadline ${fmtTime(i.verification.deadline)}; final state ${i.state}` : `  none; final state ${i.state}`);
  out.push('', `audit (${v.audit.length} records of this incident):`);
  for (const a of v.audit) out.push(`  #${a.seq} ${fmtTime(a.at)} ${a.kind} by ${a.actor} ${a.hash.slice(0, 16)} ← ${a.prevHash.slice(0, 16)}`);
  const ver = v.verification;
  out.push(ver.ok ? `audit: verified (${ver.records} records in the chain)` : `audit: BROKEN at record ${ver.firstBadSeq}: ${ver.problem}`);
  return out;
}
