import type { Decision, Incident } from '../../incident/incident.js';
import { TERMINAL_STATES } from '../../incident/lifecycle.js';
import type { AuditRecord } from '../../store/store.js';
import { esc, fmtTime, STATE_LABEL } from './html.js';

/** One thing that happened to an incident, in words a person reads at 3 AM. */
export interface TimelineEntry {
  readonly at: number;
  readonly kind: 'detected' | 'signal' | 'muted' | 'drafted' | 'proposed' | 'reminder' | 'decision' | 'step' | 'verification' | 'state' | 'refused';
  readonly text: string;
}

export interface TimelineInput {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  /** The incident's audit records (reminders, escalation, state changes); may be empty. */
  readonly audit: readonly AuditRecord[];
  /** Decisions that do not count, with why (from the quorum). */
  readonly ignored?: readonly { readonly approver: string; readonly at: number; readonly why: string }[];
}

const RANK: Readonly<Record<TimelineEntry['kind'], number>> = { detected: 0, signal: 1, muted: 2, state: 3, drafted: 4, proposed: 5, reminder: 6, decision: 7, refused: 8, step: 9, verification: 10 };

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const label = (s: string): string => STATE_LABEL[s] ?? s;

/**
 * The incident's story, oldest first: detected, muted, drafted, proposed, reminders, each decision with
 * channel and identity (and whether it counts), each step with its result, verification, final state.
 * Built from the incident record and its decisions; the audit adds reminders, escalation and state
 * changes. Pure: the same input always gives the same lines.
 */
export function buildTimeline(v: TimelineInput): TimelineEntry[] {
  const i = v.incident;
  const out: (TimelineEntry & { readonly rank: number })[] = [];
  const add = (at: number | null | undefined, kind: TimelineEntry['kind'], text: string, final = false, rank?: number): void => {
    // At the same instant the story's order decides: drafting before the proposal, approved after the decisions, the end last.
    if (typeof at === 'number' && Number.isFinite(at)) out.push({ at, kind, text, rank: final ? 99 : (rank ?? RANK[kind]) });
  };
  add(i.onsetAt, 'detected', `anomaly began: ${i.signals.map((s) => `${s.metricName} went ${s.direction}`).join(', ') || 'no signal recorded'}`);
  add(i.openedAt, 'detected', `incident opened for service ${i.service}`);
  for (const s of i.signals) if (s.startedAt !== i.onsetAt) add(s.startedAt, 'signal', `${s.metricName} went ${s.direction}`);
  for (const s of i.signals) if (s.clearedAt !== null) add(s.clearedAt, 'signal', `${s.metricName} cleared`);
  for (const m of i.mutes) add(m.at, 'muted', `muted by ${m.kind} ${m.id} (${m.by}: ${m.reason}) until ${fmtTime(m.until)}`);
  const a = i.approval;
  if (i.runbook && a) {
    add(a.requestedAt, 'drafted', `runbook drafted by ${i.plan?.planner ?? i.runbook.draftedBy}${i.plan?.modelId ? ` (${i.plan.modelId})` : ''}: "${i.runbook.title}", ${i.runbook.steps.length} step${i.runbook.steps.length === 1 ? '' : 's'}, ${i.runbook.risk} risk`);
    add(a.requestedAt, 'proposed', `approval requested: ${a.requiredApprovals} approval${a.requiredApprovals === 1 ? '' : 's'} needed by ${fmtTime(a.expiresAt)}, runbook ${i.runbook.hash.slice(0, 19)}; sent to ${a.channels.join(', ') || 'no channel'}${a.excludedApprovers.length ? `; may not approve: ${a.excludedApprovers.join(', ')}` : ''}`);
  }
  let reminders = 0;
  const transitions = new Set<string>();
  for (const r of v.audit) {
    if (r.kind === 'approval.reminder') add(r.at, 'reminder', `reminder ${++reminders} sent`);
    else if (r.kind === 'approval.escalated') add(r.at, 'reminder', `escalated to ${(r.data['to'] as string[] | undefined)?.join(', ') ?? 'the escalation approvers'}`);
    else if (r.kind === 'incident.unmuted') add(r.at, 'muted', 'mute ended: the incident goes on');
    else if (r.kind === 'approval.reminders_muted') add(r.at, 'muted', `reminders stopped while muted (${((r.data['mutes'] as { id?: string }[] | undefined) ?? []).map((m) => str(m.id)).join(', ') || 'a mute'}); decisions still count`);
    else if (r.kind === 'decision.refused') add(r.at, 'refused', `decision refused${r.data['approver'] ? ` for ${str(r.data['approver'])}` : ''}: ${str(r.data['why'] ?? r.data['reason'] ?? r.data['error'])}`);
    else if (r.kind === 'authorize.denied') add(r.at, 'refused', `authorize refused a step: ${str(r.data['reason'] ?? r.data['why'])}`);
    else if (r.kind === 'incident.transition') {
      const to = str(r.data['to']);
      transitions.add(to);
      // Proposal and steps have entries of their own; other moves are the story's turns.
      if (to === 'awaiting_approval' || to === 'executing' || to === 'verifying') continue;
      add(r.at, 'state', `${label(to)}${r.data['reason'] ? `: ${str(r.data['reason'])}` : ''}`, TERMINAL_STATES.has(to as Incident['state']), to === 'drafting' ? undefined : RANK.decision + 0.5);
    }
  }
  if (reminders === 0 && a && a.remindersSent > 0) add(a.requestedAt, 'reminder', `${a.remindersSent} reminder${a.remindersSent === 1 ? '' : 's'} sent (times not in the audit shown)`);
  const ignored = v.ignored ?? [];
  for (const d of v.decisions) {
    const why = ignored.find((x) => x.approver === d.approver && x.at === d.at)?.why;
    const current = i.runbook ? d.runbookHash === i.runbook.hash : true;
    const counts = d.verdict === 'reject' ? `${d.reason ? ` (“${d.reason}”)` : ''}` : why ? ` — not counted: ${why}` : current ? ' — counts' : ' — for an older runbook version';
    add(d.at, 'decision', `${d.approver} ${d.verdict === 'approve' ? 'approved' : 'rejected'} via ${d.channel} as ${d.identity}${counts}`);
  }
  for (const s of i.steps) {
    add(s.startedAt, 'step', `step ${s.index + 1} ${s.action} started`);
    if (s.status !== 'started') add(s.endedAt ?? s.startedAt, 'step', `step ${s.index + 1} ${s.action} ${s.status.replace(/_/g, ' ')}${s.endedAt !== null ? ` after ${Math.round((s.endedAt - s.startedAt) / 1000)} s` : ''}${s.summary ? `: ${s.summary}` : ''}`);
  }
  if (i.verification) add(i.verification.startedAt, 'verification', `verification started: ${i.verification.healthyPolls} healthy poll${i.verification.healthyPolls === 1 ? '' : 's'} so far, deadline ${fmtTime(i.verification.deadline)}`);
  // The final state, when the audit given did not carry the move into it (cut, or an old record).
  if (TERMINAL_STATES.has(i.state) && !transitions.has(i.state)) add(i.updatedAt, 'state', `${label(i.state)}: ${i.reason}`, true);
  return out.sort((x, y) => x.at - y.at || x.rank - y.rank).map(({ at, kind, text }) => ({ at, kind, text }));
}

/** Timeline lines for a terminal: `2026-11-02 08:14:00Z  decision  alice approved …`. */
export function timelineText(entries: readonly TimelineEntry[]): string[] {
  return entries.map((e) => `${fmtTime(e.at)}  ${e.kind.padEnd(12)} ${e.text}`);
}

/** The timeline as an HTML section (on the incident page). */
export function timelineSection(entries: readonly TimelineEntry[]): string {
  if (entries.length === 0) return '';
  const rows = entries.map((e) => `<tr class="tl tl-${esc(e.kind)}"><td class="when">${esc(fmtTime(e.at))}</td><td>${esc(e.kind)}</td><td>${esc(e.text)}</td></tr>`);
  return `<section id="timeline"><h2>Timeline</h2><table><tr><th>when</th><th>what</th><th></th></tr>${rows.join('')}</table></section>`;
}

/** Markdown cells: no pipe or line break from untrusted text breaks the table. */
const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

/** A postmortem skeleton in Markdown: summary, suspect, what ran, and the timeline. */
export function timelineMarkdown(v: TimelineInput): string {
  const i = v.incident;
  const s = i.correlation?.suspect;
  const lines = [
    `# Incident ${i.id}: ${i.service}`,
    '',
    `- **Final state:** ${label(i.state)}`,
    `- **Why:** ${cell(i.reason)}`,
    `- **Onset:** ${fmtTime(i.onsetAt)} · **opened:** ${fmtTime(i.openedAt)} · **last update:** ${fmtTime(i.updatedAt)}`,
    `- **Suspect:** ${s ? cell(`${s.deployment.pipeline} revision ${s.deployment.revisionId ?? '?'}${s.deployment.revisionSummary ? ` "${s.deployment.revisionSummary}"` : ''} (execution ${s.deployment.id}): ${s.reasons.join('; ')}`) : cell(`none${i.correlation ? ` (${i.correlation.verdict})` : ''}`)}`,
    ...(i.runbook ? [`- **Runbook:** ${cell(i.runbook.title)} (${i.runbook.risk} risk, \`${i.runbook.hash}\`)`] : []),
    ...(i.steps.length ? [`- **What ran:** ${i.steps.map((x) => cell(`${x.action} ${x.status}${x.summary ? `: ${x.summary}` : ''}`)).join('; ')}`] : ['- **What ran:** nothing']),
    '',
    '## Timeline (UTC)',
    '',
    '| when | what | |',
    '|---|---|---|',
    ...buildTimeline(v).map((e) => `| ${fmtTime(e.at)} | ${e.kind} | ${cell(e.text)} |`),
    '',
  ];
  return lines.join('\n');
}
