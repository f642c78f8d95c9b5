import type { AskAvailability } from '../../agent/ask-availability.js';
import { questionThreads, type QuestionThread } from '../../agent/ask-threads.js';
import type { AuditRecord } from '../../store/store.js';
import { esc, fmtTime } from './html.js';

/** What the "ask the agent" section needs besides the audit trail. */
export interface AskView {
  readonly availability: AskAvailability;
  /** The CSRF token for the question form; null shows no form (an email-link page). */
  readonly csrf: string | null;
  /** Signed in through the ALB: no token field. */
  readonly signedInAs?: string;
}

function thread(t: QuestionThread): string {
  const head = `<p><strong>${esc(t.askedBy)}</strong> <span class="muted">(${esc(t.channel)}, ${esc(fmtTime(t.askedAt))})</span>: ${esc(t.question)}</p>`;
  if (t.status === 'answering') return `<li class="question" data-status="answering">${head}<p class="muted">The agent is answering; reload in a moment.</p></li>`;
  if (t.status === 'failed') return `<li class="question" data-status="failed">${head}<p class="muted">No answer: ${esc(t.failure ?? '')}</p></li>`;
  const cites = t.citations.length
    ? `<p class="muted">Evidence the answer rests on (tool results the agent received):</p><ul class="citations">${t.citations.map((c) => `<li><code>${esc(c.tool)}(${esc(c.args.slice(0, 160))})</code> → ${esc(c.status)}: ${esc(c.observation)}</li>`).join('')}</ul>`
    : '<p class="muted">The answer cites no tool result.</p>';
  const unverified = t.unverified.length ? `<p class="muted">Cited but never received (dropped): ${esc(t.unverified.join(', '))}</p>` : '';
  const gaps = t.gaps.length ? `<p class="muted">Could not check: ${esc(t.gaps.join('; '))}</p>` : '';
  const flagged = t.flagged.length ? `<p class="muted">Text that tried to instruct the agent: ${t.flagged.slice(0, 5).map((f) => `“${esc(f.excerpt.slice(0, 160))}” (${esc(f.tool)})`).join('; ')}</p>` : '';
  const cost = t.usd !== null ? ` · $${esc(t.usd.toFixed(4))}` : '';
  return `<li class="question" data-status="answered">${head}<blockquote class="answer">${esc(t.answer ?? '')}</blockquote>${cites}${unverified}${gaps}${flagged}<p class="muted">Answered ${esc(t.answeredAt !== null ? fmtTime(t.answeredAt) : '')}${cost}. Model output: data, never a decision.</p></li>`;
}

/** "Ask the agent": earlier questions with their answers and the form, or why the agent is off. Pure. */
export function questionsSection(audit: readonly AuditRecord[], ask: AskView | undefined, incidentId: string): string {
  if (!ask) return '';
  const threads = questionThreads(audit);
  const list = threads.length ? `<ol class="questions">${threads.map(thread).join('')}</ol>` : '';
  const intro = '<p class="muted">Ask why this deployment, what a step does, what the logs show. The agent reads with the same tools as when drafting; it can never approve, execute or change the runbook (to change it, reject with a reason).</p>';
  if (!ask.availability.on) return `<section id="ask"><h2>Ask the agent</h2><p id="ask-off"><strong>The agent is off:</strong> ${esc(ask.availability.reason)}. Questions are not accepted.</p>${list}</section>`;
  const form = ask.csrf === null
    ? ''
    : `<form method="post" action="/incidents/${esc(encodeURIComponent(incidentId))}/ask" id="ask-form"><input type="hidden" name="csrf" value="${esc(ask.csrf)}">
<label>Question <textarea name="question" required maxlength="4000" rows="2"></textarea></label>
${ask.signedInAs ? `<p class="muted">Asking as ${esc(ask.signedInAs)}</p>` : '<label>Approver or reader token <input type="password" name="token" autocomplete="off" required></label>'}
<button type="submit" name="ask" value="1">Ask the agent</button></form>`;
  return `<section id="ask"><h2>Ask the agent</h2>${intro}${list}${form}</section>`;
}
