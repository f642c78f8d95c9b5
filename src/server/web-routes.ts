import type { IncomingMessage, ServerResponse } from 'node:http';
import { askAvailability } from '../agent/ask-availability.js';
import { consoleLinksFor } from './console-links.js';
import { ApprovalError } from '../approval/errors.js';
import { evaluateQuorum } from '../approval/quorum.js';
import { approvalRules } from '../policy/compile.js';
import { decisionFromForm } from './decision-form.js';
import { markStepDone, StepDoneError } from '../execute/manual-step.js';
import { csrfFor, requireSameOriginForm } from './csrf.js';
import { decodeSegment, HttpError, readForm, sendHtml } from './http.js';
import { IdentityResolver, type Identity } from './identity.js';
import { renderIncidentPage, type DecisionForm, type QuorumView } from './render/incident-page.js';
import { renderListPage } from './render/list-page.js';
import { approveCommands, canStillApprove } from './render/approve-command.js';
import { demoApprovers } from '../approval/demo-token.js';
import { esc, layout } from './render/html.js';
import { LIVE_SCRIPT } from './render/live-script.js';
import type { ServerDeps } from './server.js';

export type Route = (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => Promise<boolean>;

export interface WebOptions {
  /** Who is deciding: ALB OIDC when configured, approver tokens otherwise. */
  readonly identity?: IdentityResolver;
}

export { CSRF_REFUSED, csrfFor, csrfOk } from './csrf.js';

export interface RenderOptions {
  readonly notice?: string;
  readonly status?: number;
  readonly form?: DecisionForm;
  /** Show no decision form (e.g. after an email link was used). */
  readonly hideForm?: boolean;
  /** What the form's CSRF token is bound to besides the cookie (the signed-in identity, the email link). */
  readonly csrfBinding?: string;
}

/** Renders the incident page from the store (read-only). */
export async function renderIncident(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, id: string, o: RenderOptions = {}): Promise<void> {
  const inc = await deps.store.getIncident(id);
  if (!inc) throw new HttpError(404, `no incident ${id}`);
  const decisions = await deps.store.listDecisions(id);
  const audit = await deps.store.listAudit({ incidentId: id });
  let quorum: QuorumView | null = null;
  let commands: string[] = [];
  if (inc.approval && inc.runbook) {
    const rules = approvalRules(deps.policy, inc.runbook.risk, inc.approval.escalated);
    commands = approveCommands((who) => deps.approveCommand(inc.id, who), canStillApprove(inc, decisions, rules.eligible), demoApprovers(deps.policy.doc.approvers));
    const q = evaluateQuorum(inc.approval, decisions, rules);
    quorum = { approvedBy: q.approvedBy, needed: q.needed, eligible: [...rules.eligible].sort(), ignored: q.ignored.map((x) => ({ approver: x.decision.approver, at: x.decision.at, why: x.why })) };
  }
  const csrf = csrfFor(req, o.csrfBinding ?? '');
  const html = renderIncidentPage({
    incident: inc,
    decisions,
    audit,
    now: deps.clock.now(),
    quorum,
    csrf: (inc.state === 'awaiting_approval' || inc.state === 'executing') && !o.hideForm ? csrf.token : null,
    approveCommand: inc.state === 'awaiting_approval' && o.form?.kind !== 'email' ? commands : null,
    ...(o.notice !== undefined ? { notice: o.notice } : {}),
    ...(o.form ? { form: o.form } : {}),
    clock: clockView(deps),
    links: consoleLinksFor(deps.policy, inc),
    ask: { availability: askAvailability(deps.policy), csrf: o.form?.kind === 'email' ? null : csrf.token, ...(o.form?.kind === 'oidc' ? { signedInAs: o.form.approver } : {}) },
  });
  sendHtml(res, o.status ?? 200, html, csrf.setCookie ? { 'set-cookie': csrf.setCookie } : {});
}

/** The daemon's clock as the page shows it: the demo's is virtual, `speed` times real time. */
export function clockView(deps: ServerDeps): { virtual: boolean; speed: number } {
  const c = deps.policy.doc.cloud;
  return c.kind === 'sim' ? { virtual: true, speed: c.speed } : { virtual: false, speed: 1 };
}

function resolverFor(deps: ServerDeps, opts: WebOptions): IdentityResolver {
  return opts.identity ?? new IdentityResolver(deps.policy.doc.approvers, null);
}

/**
 * The web pages. A GET never changes anything; a decision is a POST with a CSRF token from an
 * identified approver: the ALB's verified OIDC identity when present, an approver token otherwise.
 */
export async function handleWeb(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string, opts: WebOptions = {}): Promise<boolean> {
  if (req.method === 'GET' && path === '/assets/live.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(LIVE_SCRIPT);
    return true;
  }
  if (req.method === 'GET' && (path === '/' || path === '/incidents')) {
    sendHtml(res, 200, renderListPage(await deps.store.listIncidents({ limit: 200 }), deps.clock.now()));
    return true;
  }
  const sd = /^\/incidents\/([^/]+)\/steps\/([0-9]{1,4})\/done$/.exec(path);
  if (sd) {
    await handleStepDoneForm(deps, req, res, decodeSegment(sd[1] ?? ''), Number(sd[2]), resolverFor(deps, opts));
    return true;
  }
  const m = /^\/incidents\/([^/]+)(\/decision)?$/.exec(path);
  if (!m) return false;
  const id = decodeSegment(m[1] ?? '');
  const ids = resolverFor(deps, opts);
  if (!m[2]) {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    const viewer = await ids.fromAlb(req);
    const view: RenderOptions = viewer
      ? { form: { kind: 'oidc', approver: viewer.approver, identity: viewer.identity }, csrfBinding: viewer.identity }
      : ids.tokensAllowed
        ? {}
        : { hideForm: true, notice: 'Sign in through the load balancer to decide: approver tokens are off while OIDC sign-in is on.' };
    await renderIncident(deps, req, res, id, view);
    return true;
  }
  if (req.method !== 'POST') throw new HttpError(405, 'decisions are made with the form (POST)');
  const form = await readForm(req);
  const signedIn = await ids.fromAlb(req);
  const who: Identity | null = signedIn ?? ids.fromToken(form.get('token'));
  requireSameOriginForm(req, form.get('csrf'), signedIn?.identity ?? '');
  if (!who) {
    await renderIncident(deps, req, res, id, { notice: 'Unknown approver token: nothing was recorded.', status: 401 });
    return true;
  }
  const { verdict, reason } = decisionFromForm(form);
  const formKind: DecisionForm | undefined = who.via === 'alb-oidc' ? { kind: 'oidc', approver: who.approver, identity: who.identity } : undefined;
  const binding = who.via === 'alb-oidc' ? { csrfBinding: who.identity } : {};
  try {
    const out = await deps.watcher.decide({ incidentId: id, approver: who.approver, verdict, runbookHash: form.get('runbookHash') ?? '', channel: 'web', identity: who.identity, ...(reason ? { reason } : {}) });
    await renderIncident(deps, req, res, id, { notice: `${who.approver}: ${verdict} recorded (${out.outcome}).`, ...(formKind ? { form: formKind } : {}), ...binding });
  } catch (err) {
    if (!(err instanceof ApprovalError)) throw err;
    await renderIncident(deps, req, res, id, { notice: `Not recorded: ${err.message}`, status: err.status, ...(formKind ? { form: formKind } : {}), ...binding });
  }
  return true;
}

/** The page's "mark step done" form: same identity and CSRF rules as the decision form. */
async function handleStepDoneForm(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, id: string, step: number, ids: IdentityResolver): Promise<void> {
  if (req.method !== 'POST') throw new HttpError(405, 'steps are marked done with the form (POST)');
  const form = await readForm(req);
  const signedIn = await ids.fromAlb(req);
  const who: Identity | null = signedIn ?? ids.fromToken(form.get('token'));
  requireSameOriginForm(req, form.get('csrf'), signedIn?.identity ?? '');
  const view: RenderOptions = who?.via === 'alb-oidc' ? { form: { kind: 'oidc', approver: who.approver, identity: who.identity }, csrfBinding: who.identity } : {};
  if (!who) {
    await renderIncident(deps, req, res, id, { notice: 'Unknown approver token: nothing was recorded.', status: 401 });
    return;
  }
  const note = form.get('note') ?? '';
  try {
    await markStepDone(deps.store, deps.policy, { incidentId: id, step, approver: who.approver, identity: who.identity, channel: 'web', ...(note ? { note } : {}) }, deps.clock.now());
    await renderIncident(deps, req, res, id, { notice: `${who.approver}: step ${step} marked done; the run continues with the next step.`, ...view });
  } catch (err) {
    if (!(err instanceof StepDoneError)) throw err;
    await renderIncident(deps, req, res, id, { notice: `Not recorded: ${err.message}`, status: err.status, ...view });
  }
}

/** The web pages as an extra route (server.ts tries extra routes first), with an identity resolver. */
export function webRoutes(deps: ServerDeps, opts: WebOptions): Route {
  return (req, res, path) => handleWeb(deps, req, res, path, opts);
}

export function errorPage(status: number, message: string): string {
  return layout(`Error ${status}`, `<h1>Error ${status}</h1><section><p id="error">${esc(message)}</p><p><a href="/">All incidents</a></p></section>`);
}
