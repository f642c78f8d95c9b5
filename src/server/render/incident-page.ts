import type { Decision, Incident } from '../../incident/incident.js';
import type { AuditRecord } from '../../store/store.js';
import { renderChart } from './chart.js';
import { esc, fmtRemaining, fmtTime, layout, STATE_LABEL } from './html.js';

export interface IncidentView {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  readonly audit: readonly AuditRecord[];
  readonly now: number;
  /** Approvals that count so far and how many are still needed. */
  readonly quorum: { readonly approvedBy: readonly string[]; readonly needed: number } | null;
  /** The CSRF token for the decision form (double-submit cookie); null hides the form. */
  readonly csrf: string | null;
  readonly approveCommand: string | null;
  readonly notice?: string;
}

/** The incident page: what happened, the suspect and why, the evidence, the runbook, decisions. Pure. */
export function renderIncidentPage(v: IncidentView): string {
  const i = v.incident;
  const parts = [
    `<h1>${esc(i.id)} <span class="state s-${esc(i.state)}" id="state">${esc(STATE_LABEL[i.state] ?? i.state)}</span></h1>`,
    v.notice ? `<section role="status" id="notice"><strong>${esc(v.notice)}</strong></section>` : '',
    `<p class="muted">Service <strong>${esc(i.service)}</strong> · onset ${esc(fmtTime(i.onsetAt))} · opened ${esc(fmtTime(i.openedAt))} · ${esc(i.reason)}</p>`,
    approvalBox(v),
    suspectSection(i),
    chartSection(i, v.now),
    signalsSection(i),
    evidenceSection(i),
    runbookSection(i),
    stepsSection(i),
    decisionsSection(v.decisions),
    auditSection(v.audit),
  ];
  return layout(i.id, parts.join('\n'));
}

function approvalBox(v: IncidentView): string {
  const i = v.incident;
  const a = i.approval;
  if (!a || !i.runbook) return '';
  if (i.state !== 'awaiting_approval') {
    return `<section><h2>Approval</h2><p class="big">${esc(STATE_LABEL[i.state] ?? i.state)}</p></section>`;
  }
  const left = a.expiresAt - v.now;
  const q = v.quorum;
  const form = v.csrf
    ? `<form class="decide" method="post" action="/incidents/${encodeURIComponent(i.id)}/decision">
<input type="hidden" name="csrf" value="${esc(v.csrf)}"><input type="hidden" name="runbookHash" value="${esc(i.runbook.hash)}">
<label>Approver token<input type="password" name="token" autocomplete="off" required></label>
<label>Reason (for a reject)<input type="text" name="reason" maxlength="500"></label>
<button class="approve" name="verdict" value="approve" type="submit">Approve this runbook</button>
<button class="reject" name="verdict" value="reject" type="submit">Reject</button></form>`
    : '';
  return `<section id="approval"><h2>Approval needed</h2>
<p class="big">${q ? `${q.approvedBy.length} of ${q.needed} approvals` : ''} · <span id="remaining">${esc(fmtRemaining(left))}</span> left (expires ${esc(fmtTime(a.expiresAt))}; if nobody decides, nothing runs)</p>
<p class="muted">Risk <span class="risk-${esc(i.runbook.risk)}">${esc(i.runbook.risk)}</span> · runbook <code>${esc(i.runbook.hash.slice(0, 19))}</code>${a.excludedApprovers.length ? ` · may not approve: ${esc(a.excludedApprovers.join(', '))} (triggered the suspect deployment)` : ''}</p>
${form}
${v.approveCommand ? `<p class="muted">Or from a terminal: <code>${esc(v.approveCommand)}</code></p>` : ''}</section>`;
}

function suspectSection(i: Incident): string {
  const c = i.correlation;
  if (!c) return '';
  if (!c.suspect) return `<section id="suspect"><h2>Suspect deployment</h2><p>None. ${esc(c.verdict)}</p></section>`;
  const d = c.suspect.deployment;
  const others = c.candidates.filter((x) => x.deployment.id !== d.id).slice(0, 4);
  return `<section id="suspect"><h2>Suspect deployment</h2>
<p class="big">${esc(d.pipeline)} · execution <code>${esc(d.id)}</code> · score ${esc(c.suspect.score)}</p>
<p>Revision <code>${esc(d.revisionId ?? '?')}</code>${d.revisionUrl ? ` (<a href="${esc(d.revisionUrl)}" rel="noopener noreferrer">${esc(d.revisionUrl)}</a>)` : ''}: <q>${esc(d.revisionSummary ?? '')}</q> · triggered by ${esc(d.triggeredBy ?? 'unknown')} · status ${esc(d.status)}</p>
<ul>${c.suspect.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
${others.length ? `<p class="muted">Also considered: ${others.map((o) => `${esc(o.deployment.pipeline)} ${esc(o.deployment.id.slice(0, 8))} (score ${esc(o.score)}: ${esc(o.reasons.at(-1) ?? '')})`).join('; ')}</p>` : ''}</section>`;
}

function chartSection(i: Incident, now: number): string {
  if (!i.chart) return '';
  const sig = i.signals.find((s) => s.metricId === i.chart?.metricId);
  return `<section id="chart"><h2>${esc(i.chart.metricName)} around the onset</h2>${renderChart({
    title: i.chart.metricName,
    points: i.chart.points,
    anomaly: sig ? { start: sig.startedAt, end: sig.clearedAt ?? now } : null,
    deployments: i.chart.deployments,
    ...(sig && Number.isFinite(sig.expected) ? { expected: sig.expected } : {}),
  })}<p class="muted">Shaded: the anomaly. Purple line: the suspect deployment. Dashed: expected value.</p></section>`;
}

function signalsSection(i: Incident): string {
  if (i.signals.length === 0) return '';
  const rows = i.signals.map((s) => `<tr><td>${esc(s.metricName)}</td><td>${esc(s.direction)}</td><td>${esc(fmtTime(s.startedAt))}</td><td>${esc(round(s.peakValue))} (expected ${esc(round(s.expected))})</td><td>${s.clearedAt ? `cleared ${esc(fmtTime(s.clearedAt))}` : 'ongoing'}</td></tr>`);
  return `<section id="signals"><h2>Signals</h2><table><tr><th>metric</th><th>went</th><th>since</th><th>peak</th><th>now</th></tr>${rows.join('')}</table></section>`;
}

function evidenceSection(i: Incident): string {
  const e = i.evidence;
  if (!e) return '';
  if (e.templates.length === 0) return `<section id="evidence"><h2>Log evidence</h2><p>No new or growing log patterns in ${esc(e.groups.join(', '))}.</p></section>`;
  const rows = e.templates.map((t) => `<tr><td><code>${esc(t.template)}</code>${t.samples.length ? `<pre>${esc(t.samples.join('\n'))}</pre>` : ''}</td><td>${t.isNew ? '<strong>new</strong>' : ''}</td><td>${esc(t.baselineCount)} → ${esc(t.onsetCount)}</td></tr>`);
  return `<section id="evidence"><h2>Log evidence</h2><p class="muted">${esc(e.groups.join(', '))}: ${esc(e.baseline.lines)} lines in the baseline window, ${esc(e.onset.lines)} after the onset. Log text is data, shown as written.</p><table><tr><th>pattern</th><th></th><th>before → after</th></tr>${rows.join('')}</table></section>`;
}

function runbookSection(i: Incident): string {
  const r = i.runbook;
  if (!r) return '';
  const steps = r.steps.map((s, n) => `<li><strong>${esc(s.action)}</strong> <span class="risk-${esc(s.risk)}">(${esc(s.risk)} risk)</span> — ${esc(s.description)}<br><code>${esc(JSON.stringify(s.params))}</code></li>`);
  return `<section id="runbook"><h2>Runbook: ${esc(r.title)}</h2><p class="muted">Drafted by ${esc(r.draftedBy)} from <code>${esc(r.templateId)}</code> · risk <span class="risk-${esc(r.risk)}">${esc(r.risk)}</span> · hash <code>${esc(r.hash)}</code></p><ol>${steps.join('')}</ol><p class="muted">Then: the service must stay healthy for ${esc(r.verify.healthyPolls)} polls within ${esc(Math.round(r.verify.withinMs / 60_000))} min.</p><pre>${esc(r.body)}</pre></section>`;
}

function stepsSection(i: Incident): string {
  if (i.steps.length === 0) return '';
  const rows = i.steps.map((s) => `<tr><td>${esc(s.index + 1)}</td><td>${esc(s.action)}</td><td>${esc(s.status)}</td><td>${esc(fmtTime(s.startedAt))}</td><td>${esc(s.summary)}</td></tr>`);
  return `<section id="steps"><h2>What ran</h2><table><tr><th>#</th><th>action</th><th>status</th><th>started</th><th>result</th></tr>${rows.join('')}</table></section>`;
}

function decisionsSection(ds: readonly Decision[]): string {
  const rows = ds.map((d) => `<tr><td>${esc(fmtTime(d.at))}</td><td>${esc(d.approver)}</td><td>${esc(d.verdict)}</td><td>${esc(d.channel)}</td><td>${esc(d.identity)}</td><td><code>${esc(d.runbookHash.slice(0, 19))}</code></td><td>${esc(d.reason ?? '')}</td></tr>`);
  return `<section id="decisions"><h2>Decisions</h2>${ds.length ? `<table><tr><th>when</th><th>who</th><th>decision</th><th>channel</th><th>identity</th><th>runbook</th><th>reason</th></tr>${rows.join('')}</table>` : '<p class="muted">None yet.</p>'}</section>`;
}

function auditSection(audit: readonly AuditRecord[]): string {
  const rows = audit.slice(-50).map((a) => `<tr><td>${esc(a.seq)}</td><td>${esc(fmtTime(a.at))}</td><td>${esc(a.kind)}</td><td>${esc(a.actor)}</td><td><code>${esc(JSON.stringify(a.data).slice(0, 300))}</code></td></tr>`);
  return `<section id="audit"><h2>Audit trail</h2><table><tr><th>#</th><th>when</th><th>what</th><th>who</th><th>details</th></tr>${rows.join('')}</table></section>`;
}

const round = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '?');
