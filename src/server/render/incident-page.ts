import { safeHttpUrl } from '../../core/sanitize.js';
import { decisiveReason } from '../../incident/correlate.js';
import { planCostLine } from '../../runbook/plan-cost.js';
import type { Decision, Incident } from '../../incident/incident.js';
import { ABSORBING_STATES } from '../../incident/grouping.js';
import { TERMINAL_STATES } from '../../incident/lifecycle.js';
import type { StepPreview } from '../../execute/step-preview.js';
import type { AuditRecord } from '../../store/store.js';
import { renderChartFigures } from './chart-section.js';
import { buildTimeline, timelineSection } from './timeline.js';
import { questionsSection, type AskView } from './questions.js';
import { esc, fmtRemaining, fmtTime, layout, STATE_LABEL } from './html.js';

/** How the decision form identifies the person. */
export type DecisionForm =
  /** No identity yet: the form asks for an approver token. */
  | { readonly kind: 'token' }
  /** Signed in through the ALB (OIDC): no token needed. */
  | { readonly kind: 'oidc'; readonly approver: string; readonly identity: string }
  /** Opened from an email link: the signed token rides in the form; a checkbox confirms. */
  | { readonly kind: 'email'; readonly token: string; readonly approver: string; readonly linkExpiresAt: number };

export interface QuorumView {
  /** Approvals that count so far. */
  readonly approvedBy: readonly string[];
  readonly needed: number;
  /** Approvers whose approval would count (for this risk level, escalation included). */
  readonly eligible?: readonly string[];
  /** Decisions that do not count, with why. */
  readonly ignored?: readonly { readonly approver: string; readonly at: number; readonly why: string }[];
}

export interface IncidentView {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  readonly audit: readonly AuditRecord[];
  readonly now: number;
  /** Approvals that count so far and how many are still needed. */
  readonly quorum: QuorumView | null;
  /** The CSRF token for the decision form (double-submit cookie); null hides the form. */
  readonly csrf: string | null;
  /** Runnable commands that approve from a terminal: one, or one per approver who can still approve. */
  readonly approveCommand: string | readonly string[] | null;
  readonly notice?: string;
  /** Which decision form to show (default: approver token). */
  readonly form?: DecisionForm;
  /** The daemon's clock: virtual (the demo's, `speed` virtual ms per wall ms) or the wall clock. */
  readonly clock?: { readonly virtual: boolean; readonly speed: number };
  /** AWS console links (a real account only): the suspect execution, the main metric, the service's logs. */
  readonly links?: ConsoleLinks;
  /** The "ask the agent" section (questions and answers, the form); absent: no section. */
  readonly ask?: AskView;
}

export interface ConsoleLinks {
  readonly pipelineExecution?: string;
  readonly metric?: string;
  readonly logs?: string;
}

/** An https console link, or nothing (never a javascript: or relative URL). */
const consoleLink = (label: string, url: string | undefined): string => {
  const safe = url ? safeHttpUrl(url) : null;
  return safe ? ` · <a href="${esc(safe)}" rel="noopener noreferrer">${esc(label)}</a>` : '';
};

/** Time left, in wall-clock words; on a virtual clock both, labelled ("35 min virtual ≈ 35 s real"). */
export function remainingText(ms: number, clock: IncidentView['clock']): string {
  if (!clock?.virtual || ms <= 0) return fmtRemaining(ms);
  return `${fmtRemaining(ms)} virtual ≈ ${fmtRemaining(ms / clock.speed)} real`;
}

/** What the live script compares to see whether the page is stale. */
export const liveSignature = (i: Incident, decisions: readonly Decision[]): string => `${i.state}/${i.version}/${decisions.length}`;

function liveAnchor(v: IncidentView): string {
  const i = v.incident;
  return `<div id="live" hidden data-incident="${esc(i.id)}" data-now="${esc(v.now)}" data-expires="${esc(i.state === 'awaiting_approval' ? (i.approval?.expiresAt ?? 0) : 0)}" data-speed="${esc(v.clock?.speed ?? 1)}" data-virtual="${v.clock?.virtual ? 'true' : 'false'}" data-signature="${esc(liveSignature(i, v.decisions))}"></div><script src="/assets/live.js" defer></script>`;
}

/** The incident page: what happened, the suspect and why, the evidence, the runbook, decisions. Pure. */
export function renderIncidentPage(v: IncidentView): string {
  const i = v.incident;
  const parts = [
    `<h1>${esc(i.id)} <span class="state s-${esc(i.state)}" id="state">${esc(STATE_LABEL[i.state] ?? i.state)}</span></h1>`,
    v.notice ? `<section role="status" id="notice"><strong>${esc(v.notice)}</strong></section>` : '',
    `<p class="muted">Service <strong>${esc(i.service)}</strong>${i.account ? ` · account <strong>${esc(i.account)}</strong> · region ${esc(i.region ?? '')}` : ''} · onset ${esc(fmtTime(i.onsetAt))} · opened ${esc(fmtTime(i.openedAt))} · ${esc(i.reason)}</p>`,
    mutesSection(i, v.now),
    approvalBox(v),
    suspectSection(i, v.links),
    chartSection(i, v.now, v.links),
    signalsSection(i),
    evidenceSection(i),
    runbookSection(i),
    stepsSection(v),
    timelineSection(buildTimeline({ incident: i, decisions: v.decisions, audit: v.audit, ...(v.quorum?.ignored ? { ignored: v.quorum.ignored } : {}) })),
    decisionsSection(v),
    questionsSection(v.audit, v.ask, i.id),
    auditSection(v.audit, i.id),
    // An email-link page carries no script at all: a mail scanner rendering it runs nothing.
    v.form?.kind === 'email' ? '' : liveAnchor(v),
  ];
  return layout(i.id, parts.join('\n'));
}

function approvalBox(v: IncidentView): string {
  const i = v.incident;
  const a = i.approval;
  if (!a || !i.runbook) return '';
  const q = v.quorum;
  const approvedLine = q ? `<p class="muted" id="approved-by">Approved by: ${q.approvedBy.length ? esc(q.approvedBy.join(', ')) : 'nobody yet'}.</p>` : '';
  if (i.state !== 'awaiting_approval') {
    return `<section id="approval"><h2>Approval</h2><p class="big">${esc(STATE_LABEL[i.state] ?? i.state)}</p>${approvedLine}</section>`;
  }
  const left = a.expiresAt - v.now;
  const still = q ? Math.max(0, q.needed - q.approvedBy.length) : null;
  const decided = new Set(v.decisions.filter((d) => d.runbookHash === a.runbookHash).map((d) => d.approver));
  const canStill = q?.eligible?.filter((n) => !decided.has(n) && !a.excludedApprovers.includes(n)) ?? [];
  const form = v.csrf ? decisionForm(v, v.csrf) : '';
  return `<section id="approval"><h2>Approval needed</h2>
<p class="big">${q ? `<span id="approvals-count">${esc(q.approvedBy.length)} of ${esc(q.needed)} approvals</span> · <strong id="still-needed">${esc(still)} more needed</strong> · ` : ''}<span id="remaining">${esc(remainingText(left, v.clock))}</span> left (expires ${esc(fmtTime(a.expiresAt))}${v.clock?.virtual ? ` on the demo's virtual clock, ${esc(v.clock.speed)}× real time` : ''}; if nobody decides, nothing runs)</p>
${approvedLine}${q?.eligible ? `<p class="muted" id="can-approve">Can still approve: ${canStill.length ? esc(canStill.join(', ')) : 'nobody (ask for escalation)'}.</p>` : ''}
<p class="muted">Risk <span class="risk-${esc(i.runbook.risk)}">${esc(i.runbook.risk)}</span> · runbook <code>${esc(i.runbook.hash.slice(0, 19))}</code>${a.excludedApprovers.length ? ` · may not approve: ${esc(a.excludedApprovers.join(', '))} (triggered the suspect deployment)` : ''}</p>
${actionPreview(i)}
${stepPreviews(a.previews)}
${form}
${terminalCommands(v.approveCommand)}</section>`;
}

function terminalCommands(c: string | readonly string[] | null): string {
  const lines = c === null ? [] : typeof c === 'string' ? [c] : c;
  if (lines.length === 0) return '';
  if (lines.length === 1) return `<p class="muted" id="approve-command">Or from a terminal: <code>${esc(lines[0])}</code></p>`;
  return `<p class="muted">Or from a terminal, as the approver (with their token in CLOUDOPS_TOKEN):</p><pre id="approve-command">${esc(lines.join('\n'))}</pre>`;
}

/** Silences and maintenance windows that muted the incident: whose, why, until when. */
function mutesSection(i: Incident, now: number): string {
  if (i.mutes.length === 0) return '';
  const rows = i.mutes.map(
    (m) =>
      `<tr class="mute"><td>${esc(m.kind)}</td><td><code>${esc(m.id)}</code></td><td>${esc(m.by)}</td><td class="mute-reason">${esc(m.reason)}</td><td>${esc(m.metrics.join(', '))}</td><td>${m.until > now ? `until ${esc(fmtTime(m.until))}` : `ended ${esc(fmtTime(m.until))}`}</td></tr>`,
  );
  const active = i.mutes.some((m) => m.until > now);
  return `<section id="mutes"><h2>${active ? 'Muted' : 'Was muted'}</h2><p class="muted">${active ? 'Recorded but kept quiet: no proposal and no notification while a mute lasts.' : 'These mutes kept the incident quiet for a while.'}</p><table><tr><th>kind</th><th>id</th><th>by</th><th>reason</th><th>metrics</th><th>ends</th></tr>${rows.join('')}</table></section>`;
}

/**
 * Two forms, so a key press can only ever reject. The approve form has no free-text field, needs the
 * "I reviewed" box, and its first (default) submit button is disabled: implicit submission from a text
 * field (Enter) then does nothing. Chromium's Enter on a checkbox skips a disabled default and clicks the
 * first enabled submit button, so that one is a second guard posting `verdict=enter`, which the server
 * refuses. Only a click on "Approve" approves. The reject form needs a reason; Enter in it rejects.
 */
function decisionForm(v: IncidentView, csrf: string): string {
  const i = v.incident;
  const hash = i.runbook?.hash ?? '';
  const f = v.form ?? { kind: 'token' as const };
  const hidden = `<input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="runbookHash" value="${esc(hash)}">${f.kind === 'email' ? `<input type="hidden" name="t" value="${esc(f.token)}">` : ''}`;
  const action = f.kind === 'email' ? `/email/${encodeURIComponent(i.id)}` : `/incidents/${encodeURIComponent(i.id)}/decision`;
  const token = (id: string): string => (f.kind === 'token' ? `<label>Approver token<input type="password" name="token" id="${id}" autocomplete="off" required></label>` : '');
  const approve = `<form class="decide approve-form" method="post" action="${action}">${hidden}
<button type="submit" disabled hidden aria-hidden="true" tabindex="-1" class="enter-guard"></button><button type="submit" name="verdict" value="enter" hidden aria-hidden="true" tabindex="-1" class="enter-guard"></button>
${token('approve-token')}
<label class="confirm"><span><input type="checkbox" name="confirm" value="yes" required> I reviewed the actions above</span></label>
<button class="approve" name="verdict" value="approve" type="submit">Approve this runbook</button></form>`;
  const reject = `<form class="decide reject-form" method="post" action="${action}">${hidden}
${token('reject-token')}
<label>Reason for rejecting<input type="text" name="reason" maxlength="500" required></label>
<button class="reject" name="verdict" value="reject" type="submit">Reject</button></form>`;
  if (f.kind === 'email') {
    return `<p id="who">This link was sent to <strong>${esc(f.approver)}</strong> and is valid until ${esc(fmtTime(f.linkExpiresAt))}. Opening it decided nothing; only the buttons below do, once.</p>
${approve}
${reject}`;
  }
  const who = f.kind === 'oidc' ? `<p id="who">Signed in as <strong>${esc(f.approver)}</strong> (${esc(f.identity)}).</p>` : '';
  return `${who}${approve}
${reject}`;
}

/** Where an action points, from its parameters, in plain words. */
export function actionTarget(params: Readonly<Record<string, string | number | boolean>>): string {
  const p = (k: string): string | null => (params[k] === undefined ? null : String(params[k]));
  if (p('pipeline')) return `pipeline ${p('pipeline')}${p('stage') ? `, stage ${p('stage')}` : ''}`;
  if (p('service')) return `service ${p('service')}${p('cluster') ? ` in cluster ${p('cluster')}` : ''}`;
  for (const k of ['function', 'functionName', 'topicArn', 'documentName', 'name', 'id']) if (p(k)) return `${k} ${p(k)}`;
  const first = Object.entries(params)[0];
  return first ? `${first[0]} ${String(first[1])}` : '—';
}

/** What would run, step by step: action, target and every parameter. */
function actionPreview(i: Incident): string {
  const r = i.runbook;
  if (!r) return '';
  const rows = r.steps.map(
    (s, n) =>
      `<tr class="action"><td>${esc(n + 1)}</td><td><code class="action-name">${esc(s.action)}</code></td><td class="target">${esc(actionTarget(s.params))}</td><td><ul class="params">${Object.entries(s.params)
        .map(([k, val]) => `<li><code>${esc(k)}</code> = <code>${esc(String(val))}</code></li>`)
        .join('')}</ul></td><td class="risk-${esc(s.risk)}">${esc(s.risk)}</td><td>${esc(s.description)}</td></tr>`,
  );
  return `<div id="actions"><h2>What would run</h2><table><tr><th>#</th><th>action</th><th>target</th><th>parameters</th><th>risk</th><th>what it does</th></tr>${rows.join('')}</table></div>`;
}

/** Each step's preview made when the request opened: what changes, blast radius, cost; or why it is unavailable. */
function stepPreviews(previews: readonly StepPreview[] | undefined): string {
  if (!previews || previews.length === 0) return '';
  const items = previews.map((p) =>
    p.available
      ? `<li class="preview" data-step="${esc(p.index + 1)}"><strong>${esc(p.index + 1)}.</strong> ${esc(p.summary)}${p.changes.length ? `<ul class="changes">${p.changes.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : ''}<div class="blast">Blast radius: ${esc(p.blastRadius)}</div><div class="cost">Cost: ${esc(p.cost)}</div></li>`
      : `<li class="preview unavailable" data-step="${esc(p.index + 1)}"><strong>${esc(p.index + 1)}.</strong> ${esc(p.summary)} <div class="unavailable-reason">preview unavailable: ${esc(p.unavailable ?? 'unknown reason')}</div><div class="blast">Blast radius: ${esc(p.blastRadius)}</div></li>`,
  );
  return `<div id="previews"><h3>What each step will change (read from the cloud when this was proposed)</h3><ol class="previews">${items.join('')}</ol></div>`;
}

/** A link only for an http(s) URL; anything else (javascript:, data:) is shown as text, not linked. */
function revisionLink(url: string | undefined | null): string {
  if (!url) return '';
  const safe = safeHttpUrl(url);
  return safe ? ` (<a href="${esc(safe)}" rel="noopener noreferrer">${esc(safe)}</a>)` : ` (<code>${esc(url)}</code>, not linked)`;
}

function suspectSection(i: Incident, links: ConsoleLinks | undefined): string {
  const c = i.correlation;
  if (!c) return '';
  if (!c.suspect) return `<section id="suspect"><h2>Suspect deployment</h2><p>None. ${esc(c.verdict)}</p></section>`;
  const d = c.suspect.deployment;
  const others = c.candidates.filter((x) => x.deployment.id !== d.id).slice(0, 4);
  return `<section id="suspect"><h2>Suspect deployment</h2>
<p class="big">${esc(d.pipeline)} <code>${esc((d.revisionId ?? '?').slice(0, 12))}</code>${d.revisionSummary ? ` <q>${esc(d.revisionSummary)}</q>` : ''}</p>
<p>Revision <code>${esc(d.revisionId ?? '?')}</code>${revisionLink(d.revisionUrl)}${d.author ? ` by ${esc(d.author)}` : ''} · triggered by ${esc(d.triggeredBy ?? 'unknown')} · status ${esc(d.status)}</p>
<p class="muted">execution <code>${esc(d.id)}</code> · score ${esc(c.suspect.score)}${consoleLink('pipeline execution in the console', links?.pipelineExecution)}</p>
<ul>${c.suspect.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
${others.length ? `<p class="muted">Also considered: ${others.map((o) => `${esc(o.deployment.pipeline)} ${esc(o.deployment.id.slice(0, 8))} (score ${esc(o.score)}: ${esc(decisiveReason(o))})`).join('; ')}</p>` : ''}</section>`;
}

function chartSection(i: Incident, now: number, links: ConsoleLinks | undefined): string {
  if (!i.chart) return '';
  const n = i.chart.series?.length ?? 1;
  const console = `${consoleLink('metric in CloudWatch', links?.metric)}${consoleLink('logs in Logs Insights', links?.logs)}`.replace(/^ · /, '');
  return `<section id="chart"><h2>${n > 1 ? `${esc(n)} signal metrics` : esc(i.chart.metricName)} around the onset${i.steps.length ? ' and after the runbook' : ''}</h2>${renderChartFigures(i, now)}${console ? `<p class="muted">${console}</p>` : ''}</section>`;
}

function signalsSection(i: Incident): string {
  if (i.signals.length === 0) return '';
  const rows = i.signals.map((s) => `<tr><td>${esc(s.metricName)}</td><td>${esc(s.direction)}</td><td>${esc(fmtTime(s.startedAt))}</td><td>${esc(round(s.peakValue))} (expected ${esc(round(s.expected))})</td><td class="signal-now">${esc(signalNow(i, s))}</td></tr>`);
  return `<section id="signals"><h2>Signals</h2><table><tr><th>metric</th><th>went</th><th>since</th><th>peak</th><th>now</th></tr>${rows.join('')}</table></section>`;
}

/** Where a signal stands: cleared, or ongoing only while the incident is still open. */
function signalNow(i: Incident, s: Incident['signals'][number]): string {
  if (s.clearedAt !== null) return `cleared ${fmtTime(s.clearedAt)}`;
  // Incidents stored before their end cleared the signals: not "ongoing", just no longer watched.
  return TERMINAL_STATES.has(i.state) && !ABSORBING_STATES.has(i.state) ? `not watched since the incident ended (${STATE_LABEL[i.state] ?? i.state})` : 'ongoing';
}

function evidenceSection(i: Incident): string {
  const e = i.evidence;
  if (!e) return '';
  if (e.templates.length === 0) return `<section id="evidence"><h2>Log evidence</h2><p>No new or growing log patterns in ${esc(e.groups.join(', '))}.</p></section>`;
  const rows = e.templates.map((t) => `<tr><td><code>${esc(t.template)}</code>${t.samples.length ? `<pre>${esc(t.samples.join('\n'))}</pre>` : ''}</td><td>${t.isNew ? '<strong>new</strong>' : ''}</td><td>${esc(t.baselineCount)} → ${esc(t.onsetCount)}</td></tr>`);
  return `<section id="evidence"><h2>Log evidence</h2><p class="muted">${esc(e.groups.join(', '))}: ${esc(e.baseline.lines)} lines in the baseline window, ${esc(e.onset.lines)} after the onset. Log text is data, shown as written.</p><table><tr><th>pattern</th><th></th><th>before → after</th></tr>${rows.join('')}</table></section>`;
}

/** What drafting cost (tokens by kind, dollars), when a model drafted. */
function costLine(i: Incident): string {
  const line = planCostLine(i.plan);
  return line ? `<p class="muted" id="plan-cost">Drafting cost: ${esc(line)}</p>` : '';
}

function runbookSection(i: Incident): string {
  const r = i.runbook;
  if (!r) return '';
  const steps = r.steps.map((s) => `<li><strong>${esc(s.action)}</strong> <span class="risk-${esc(s.risk)}">(${esc(s.risk)} risk)</span> — ${esc(s.description)}<br><code>${esc(JSON.stringify(s.params))}</code></li>`);
  return `<section id="runbook"><h2>Runbook: ${esc(r.title)}</h2><p class="muted">Drafted by ${esc(r.draftedBy)} from <code>${esc(r.templateId)}</code> · risk <span class="risk-${esc(r.risk)}">${esc(r.risk)}</span> · hash <code>${esc(r.hash)}</code></p>${costLine(i)}<ol>${steps.join('')}</ol><p class="muted">Then: the service must stay healthy for ${esc(r.verify.healthyPolls)} polls within ${esc(Math.round(r.verify.withinMs / 60_000))} min.</p><pre>${esc(r.body)}</pre></section>`;
}

function stepsSection(v: IncidentView): string {
  const i = v.incident;
  if (i.steps.length === 0) return '';
  const rows = i.steps.map((s) => `<tr><td>${esc(s.index + 1)}</td><td>${esc(s.action)}</td><td>${esc(s.status)}</td><td>${esc(fmtTime(s.startedAt))}</td><td>${esc(s.summary)}${s.status === 'awaiting_person' && i.state === 'executing' && v.csrf ? stepDoneForm(v, s.index + 1, v.csrf) : ''}</td></tr>`);
  return `<section id="steps"><h2>What ran</h2><table><tr><th>#</th><th>action</th><th>status</th><th>started</th><th>result</th></tr>${rows.join('')}</table></section>`;
}

/** The manual step's hand-back: an approver marks it done (CSRF like the decision form), with an optional note. */
function stepDoneForm(v: IncidentView, n: number, csrf: string): string {
  const f = v.form ?? { kind: 'token' as const };
  // An email link identifies a decision on one request, not a person's hand-back of a step.
  if (f.kind === 'email') return '';
  const token = f.kind === 'token' ? `<label>Approver token<input type="password" name="token" autocomplete="off" required></label>` : '';
  return `<form class="step-done" method="post" action="/incidents/${encodeURIComponent(v.incident.id)}/steps/${esc(n)}/done"><input type="hidden" name="csrf" value="${esc(csrf)}">${token}<label>Note<input type="text" name="note" maxlength="1000"></label><button type="submit" class="step-done-button">Mark step ${esc(n)} done</button></form>`;
}

function decisionsSection(v: IncidentView): string {
  const ds = v.decisions;
  const ignored = v.quorum?.ignored ?? [];
  const counts = (d: Decision): string => {
    if (!v.quorum) return '';
    const why = ignored.find((x) => x.approver === d.approver && x.at === d.at)?.why;
    return why ? `not counted: ${why}` : 'counts';
  };
  const rows = ds.map(
    (d) =>
      `<tr class="decision"><td>${esc(fmtTime(d.at))}</td><td>${esc(d.approver)}</td><td class="verdict">${esc(d.verdict)}</td><td class="channel">${esc(d.channel)}</td><td class="identity">${esc(d.identity)}</td><td><code>${esc(d.runbookHash.slice(0, 19))}</code></td><td>${esc(counts(d))}</td><td>${esc(d.reason ?? '')}</td></tr>`,
  );
  return `<section id="decisions"><h2>Decisions</h2>${ds.length ? `<table><tr><th>when</th><th>who</th><th>decision</th><th>channel</th><th>identity</th><th>runbook</th><th>counts?</th><th>reason</th></tr>${rows.join('')}</table>` : '<p class="muted">None yet.</p>'}</section>`;
}

/** Records the page always shows, however long the trail: what opened, moved, decided or ran the incident. */
const KEY_AUDIT = /^(incident\.opened|incident\.transition|incident\.muted|incident\.unmuted|decision\.|approval\.|step\.|authorize\.)/;
/** How many of the latest other records the page shows. */
export const AUDIT_TAIL = 30;

/**
 * The audit trail, never silently cut: every key record (opened, state changes, decisions, reminders,
 * steps) and the latest AUDIT_TAIL others; when records are left out, the page says how many and where
 * the whole trail is.
 */
function auditSection(audit: readonly AuditRecord[], id: string): string {
  const tail = new Set(audit.slice(-AUDIT_TAIL).map((a) => a.seq));
  const shown = audit.filter((a) => tail.has(a.seq) || KEY_AUDIT.test(a.kind));
  const cut = audit.length - shown.length;
  const rows = shown.map((a) => `<tr><td>${esc(a.seq)}</td><td class="when">${esc(fmtTime(a.at))}</td><td>${esc(a.kind)}</td><td>${esc(a.actor)}</td><td><code class="audit-data">${esc(clip(JSON.stringify(a.data), 300))}</code></td></tr>`);
  const note = cut > 0 ? `<p class="muted" id="audit-cut">Showing ${esc(shown.length)} of ${esc(audit.length)} records: every state change, decision, reminder and step, and the latest ${esc(AUDIT_TAIL)}. ${esc(cut)} left out; the whole trail: <a href="/api/incidents/${encodeURIComponent(id)}/audit">/api/incidents/${esc(id)}/audit</a> or <code>cloudops show ${esc(id)} --record</code>.</p>` : `<p class="muted" id="audit-cut">All ${esc(audit.length)} records.</p>`;
  return `<section id="audit"><h2>Audit trail</h2>${note}<table class="audit"><tr><th>#</th><th>when</th><th>what</th><th>who</th><th>details</th></tr>${rows.join('')}</table></section>`;
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const round = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '?');
