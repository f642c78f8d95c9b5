import type { Decision, Incident } from '../incident/incident.js';
import { decisiveReason } from '../incident/correlate.js';
import { previewLine } from '../execute/step-preview.js';
import { planCostLine } from '../runbook/plan-cost.js';
import type { AuditRecord } from '../store/store.js';
import { describeMute } from '../mute/mutes.js';
import { fmtRemaining, fmtTime, STATE_LABEL } from '../server/render/html.js';
import { buildTimeline, timelineText } from '../server/render/timeline.js';

/** What GET /api/incidents/ID answers (see api-routes.ts incidentDetail). */
export interface IncidentDetail {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  readonly quorum: { readonly approvedBy: readonly string[]; readonly needed: number; readonly met: boolean; readonly ignored?: readonly { approver: string; at: number; why: string }[] } | null;
  readonly executedActions: number;
  /** The daemon's clock when it answered; virtual in the demo. */
  readonly clock?: { readonly now: number; readonly virtual: boolean };
}

/**
 * `cloudops show ID` for a person: state and why, mutes, the suspect (pipeline, revision, message) and
 * the others considered, top log templates, the runbook, approvals and time left, each decision (who,
 * when, channel, counted or why not), what ran and its result, and the timeline. Pure.
 */
export function showText(d: IncidentDetail, audit: readonly AuditRecord[] = []): string[] {
  const i = d.incident;
  const now = d.clock?.now ?? i.updatedAt;
  const out = [`${i.id}  ${STATE_LABEL[i.state] ?? i.state}`, `  service ${i.service} · onset ${fmtTime(i.onsetAt)} · opened ${fmtTime(i.openedAt)}`, `  ${i.reason}`];
  for (const m of i.mutes) out.push(`  ${m.until > now ? 'muted' : 'was muted'} by ${describeMute(m)} until ${fmtTime(m.until)}`);
  const c = i.correlation;
  const s = c?.suspect;
  if (s) {
    const dep = s.deployment;
    out.push(`  suspect: ${dep.pipeline} revision ${dep.revisionId?.slice(0, 12) ?? '?'}${dep.revisionSummary ? ` "${dep.revisionSummary}"` : ''} (execution ${dep.id})`);
    for (const r of s.reasons) out.push(`    - ${r}`);
  } else out.push(`  suspect: none${c ? ` (${c.verdict})` : ''}`);
  for (const o of c?.candidates.filter((x) => x.deployment.id !== s?.deployment.id).slice(0, 3) ?? []) out.push(`  also considered: ${o.deployment.pipeline} ${o.deployment.id.slice(0, 8)} (score ${o.score}): ${decisiveReason(o)}`);
  const templates = i.evidence?.templates.slice(0, 3) ?? [];
  if (templates.length) {
    out.push('  top log templates:');
    for (const t of templates) out.push(`    ${t.isNew ? 'new    ' : 'growing'} ${t.baselineCount} → ${t.onsetCount}  ${t.template}`);
  }
  if (i.runbook) {
    out.push(`  runbook: ${i.runbook.title} [${i.runbook.risk} risk] ${i.runbook.hash}`);
    i.runbook.steps.forEach((st, n) => out.push(`    ${n + 1}. ${st.action}: ${st.description}`));
    for (const p of i.approval?.previews ?? []) out.push(`    preview ${p.index + 1}: ${previewLine(p)}`);
    const cost = planCostLine(i.plan);
    if (cost) out.push(`  drafting cost: ${cost}`);
  }
  const q = d.quorum;
  if (q && i.approval) {
    const left = i.approval.expiresAt - now;
    const clock = d.clock?.virtual ? ' on the virtual (demo) clock' : '';
    out.push(i.state === 'awaiting_approval'
      ? `  approvals: ${q.approvedBy.length} of ${q.needed}; ${fmtRemaining(left)} left${clock} (expires ${fmtTime(i.approval.expiresAt)}; if nobody decides, nothing runs)`
      : `  approvals: ${q.approvedBy.length} of ${q.needed}${q.approvedBy.length ? ` (${q.approvedBy.join(', ')})` : ''}`);
  }
  out.push('  decisions:');
  if (d.decisions.length === 0) out.push('    none');
  for (const x of d.decisions) {
    const why = q?.ignored?.find((g) => g.approver === x.approver && g.at === x.at)?.why;
    const counted = x.verdict === 'reject' ? `reason: ${x.reason ?? '—'}` : why ? `not counted: ${why}` : 'counts';
    out.push(`    ${fmtTime(x.at)}  ${x.approver} ${x.verdict} via ${x.channel} (${x.identity}) — ${counted}`);
  }
  out.push(`  what ran: ${i.steps.length === 0 ? 'nothing' : ''}`.trimEnd());
  for (const st of i.steps) out.push(`    ${st.index + 1}. ${st.action} ${st.status.replace(/_/g, ' ')}${st.endedAt !== null ? ` in ${Math.round((st.endedAt - st.startedAt) / 1000)} s` : ''}${st.summary ? `: ${st.summary}` : ''}`);
  out.push('  timeline:');
  for (const l of timelineText(buildTimeline({ incident: i, decisions: d.decisions, audit, ...(q?.ignored ? { ignored: q.ignored } : {}) }))) out.push(`    ${l}`);
  return out;
}
