import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { approverForToken } from '../approval/approver-tokens.js';
import { ApprovalError } from '../approval/errors.js';
import { evaluateQuorum } from '../approval/quorum.js';
import { approvalRules } from '../policy/compile.js';
import { HttpError, parseCookies, readForm, sendHtml } from './http.js';
import { renderIncidentPage } from './render/incident-page.js';
import { renderListPage } from './render/list-page.js';
import { esc, layout } from './render/html.js';
import type { ServerDeps } from './server.js';

const CSRF_COOKIE = 'cloudops_csrf';

function csrfFor(req: IncomingMessage): { token: string; setCookie: string | null } {
  const existing = parseCookies(req)[CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{32,64}$/.test(existing)) return { token: existing, setCookie: null };
  const token = randomBytes(24).toString('base64url');
  return { token, setCookie: `${CSRF_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict` };
}

function csrfOk(req: IncomingMessage, submitted: string | null): boolean {
  const cookie = parseCookies(req)[CSRF_COOKIE];
  if (!cookie || !submitted || cookie.length !== submitted.length) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(submitted));
}

async function renderIncident(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, id: string, notice?: string, status = 200): Promise<void> {
  const inc = await deps.store.getIncident(id);
  if (!inc) throw new HttpError(404, `no incident ${id}`);
  const decisions = await deps.store.listDecisions(id);
  const audit = await deps.store.listAudit({ incidentId: id });
  const q = inc.approval && inc.runbook ? evaluateQuorum(inc.approval, decisions, approvalRules(deps.policy, inc.runbook.risk, inc.approval.escalated)) : null;
  const csrf = csrfFor(req);
  const html = renderIncidentPage({
    incident: inc,
    decisions,
    audit,
    now: deps.clock.now(),
    quorum: q ? { approvedBy: q.approvedBy, needed: q.needed } : null,
    csrf: inc.state === 'awaiting_approval' ? csrf.token : null,
    approveCommand: inc.state === 'awaiting_approval' ? deps.approveCommand(inc.id) : null,
    ...(notice !== undefined ? { notice } : {}),
  });
  sendHtml(res, status, html, csrf.setCookie ? { 'set-cookie': csrf.setCookie } : {});
}

/** The web pages. A GET never changes anything; a decision is a POST with a CSRF token and an approver token. */
export async function handleWeb(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method === 'GET' && (path === '/' || path === '/incidents')) {
    sendHtml(res, 200, renderListPage(await deps.store.listIncidents({ limit: 200 }), deps.clock.now()));
    return true;
  }
  const m = /^\/incidents\/([^/]+)(\/decision)?$/.exec(path);
  if (!m) return false;
  const id = decodeURIComponent(m[1] ?? '');
  if (!m[2]) {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    await renderIncident(deps, req, res, id);
    return true;
  }
  if (req.method !== 'POST') throw new HttpError(405, 'decisions are made with the form (POST)');
  const form = await readForm(req);
  if (!csrfOk(req, form.get('csrf'))) throw new HttpError(403, 'the form expired or did not come from this page (CSRF check failed); reload the page');
  const approver = approverForToken(deps.policy.doc.approvers, form.get('token'));
  if (!approver) {
    await renderIncident(deps, req, res, id, 'Unknown approver token: nothing was recorded.', 401);
    return true;
  }
  const verdict = form.get('verdict');
  if (verdict !== 'approve' && verdict !== 'reject') throw new HttpError(400, 'verdict must be approve or reject');
  const reason = form.get('reason')?.trim() || undefined;
  try {
    const out = await deps.watcher.decide({ incidentId: id, approver, verdict, runbookHash: form.get('runbookHash') ?? '', channel: 'web', identity: `token:${approver}`, ...(reason ? { reason } : {}) });
    await renderIncident(deps, req, res, id, `${approver}: ${verdict} recorded (${out.outcome}).`);
  } catch (err) {
    if (!(err instanceof ApprovalError)) throw err;
    await renderIncident(deps, req, res, id, `Not recorded: ${err.message}`, err.status);
  }
  return true;
}

export function errorPage(status: number, message: string): string {
  return layout(`Error ${status}`, `<h1>Error ${status}</h1><section><p>${esc(message)}</p><p><a href="/">All incidents</a></p></section>`);
}
