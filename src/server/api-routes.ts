import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { approverForToken } from '../approval/approver-tokens.js';
import { evaluateQuorum } from '../approval/quorum.js';
import { approvalRules } from '../policy/compile.js';
import { isIncidentState } from '../incident/lifecycle.js';
import { bearerToken, decodeSegment, HttpError, readJson, sendJson } from './http.js';
import { tokensAllowed, TOKENS_OFF } from './identity.js';
import type { ServerDeps } from './server.js';
import { clockView } from './web-routes.js';
import { MuteError, windowBounds } from '../mute/mutes.js';
import { addSilence, expireSilence, listSilences } from '../mute/silences.js';
import { handleFollowUp } from './follow-up-route.js';
import { markStepDone, StepDoneError } from '../execute/manual-step.js';

const decisionBody = z.strictObject({
  runbookHash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected the runbook hash shown with the proposal (sha256:…)'),
  as: z.string().max(100).optional(),
  reason: z.string().max(1000).optional(),
  // As for a step marked done: the CLI says it is the CLI (audited as channel cli); the page, Slack and email have routes of their own.
  via: z.enum(['api', 'cli'], 'expected "api" or "cli" (the page, Slack and email decide through their own routes)').optional(),
});

/** Incident with what a client needs to decide: decisions and the quorum so far. */
export async function incidentDetail(deps: ServerDeps, id: string): Promise<Record<string, unknown>> {
  const inc = await deps.store.getIncident(id);
  if (!inc) throw new HttpError(404, `no incident ${id}`);
  const decisions = await deps.store.listDecisions(id);
  const quorum = inc.approval && inc.runbook ? evaluateQuorum(inc.approval, decisions, approvalRules(deps.policy, inc.runbook.risk, inc.approval.escalated)) : null;
  return {
    incident: inc,
    decisions,
    quorum: quorum ? { approvedBy: quorum.approvedBy, needed: quorum.needed, met: quorum.met, ignored: quorum.ignored.map((x) => ({ approver: x.decision.approver, at: x.decision.at, why: x.why })) } : null,
    executedActions: inc.steps.filter((s) => s.status !== 'handed_to_human').length,
    now: deps.clock.now(),
    // The daemon's clock: in the demo it is virtual, and a client shows it as such.
    clock: { now: deps.clock.now(), ...clockView(deps) },
  };
}

const silenceBody = z.strictObject({
  service: z.string().min(1).max(100),
  metric: z.string().min(1).max(255).optional(),
  for: z.string().max(20).describe('a duration such as 30m, 2h, 1d'),
  reason: z.string().max(500),
  as: z.string().max(100).optional(),
});

/** Refuses a named approver the policy does not know, naming the ones it does (issue 15 bug 6). */
function requireKnownApprover(deps: ServerDeps, as: string | undefined): void {
  if (as === undefined || Object.prototype.hasOwnProperty.call(deps.policy.doc.approvers, as)) return;
  throw new HttpError(403, `${as} is not an approver (known: ${Object.keys(deps.policy.doc.approvers).sort().join(', ')})`);
}

/** The approver behind the request's bearer token; 401 without a known one. */
function approverOf(deps: ServerDeps, req: IncomingMessage): string {
  const approver = approverForToken(deps.policy.doc.approvers, bearerToken(req));
  if (!approver) throw new HttpError(401, 'unknown or missing approver token (Authorization: Bearer …)');
  return approver;
}

const muteHttp = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MuteError) throw new HttpError(err.status, err.message);
    throw err;
  }
};

/**
 * Silences: GET lists them (and the policy's maintenance and freeze windows); POST adds one and
 * DELETE /api/silences/ID ends one, both with an approver bearer token (the author is the token's
 * approver). Reading is open, like GET /api/incidents.
 */
async function handleSilences(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean> {
  const now = deps.clock.now();
  if (path === '/api/silences') {
    if (req.method === 'GET') {
      const all = await listSilences(deps.store, now);
      const active = url.searchParams.get('active');
      const windows = (kind: 'maintenance' | 'freeze', list: typeof deps.policy.doc.maintenance) =>
        list.map((w) => {
          const b = windowBounds(w);
          return { kind, id: `${kind}:${w.name}`, services: w.services, reason: w.reason, startsAt: b.start, endsAt: b.end, active: now >= b.start && now < b.end };
        });
      sendJson(res, 200, {
        silences: active === 'true' ? all.filter((s) => s.active) : all,
        windows: [...windows('maintenance', deps.policy.doc.maintenance), ...windows('freeze', deps.policy.doc.freezes)],
      });
      return true;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use GET or POST');
    const parsed = silenceBody.safeParse(await readJson(req));
    if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    requireKnownApprover(deps, parsed.data.as);
    const author = approverOf(deps, req);
    if (parsed.data.as !== undefined && parsed.data.as !== author) throw new HttpError(403, `this token belongs to ${author}, not ${parsed.data.as}`);
    const { service, metric, reason } = parsed.data;
    const s = await muteHttp(() => addSilence(deps.store, deps.policy, { service, ...(metric !== undefined ? { metric } : {}), for: parsed.data.for, reason, author }, now));
    sendJson(res, 201, { silence: s });
    return true;
  }
  const m = /^\/api\/silences\/([^/]+)$/.exec(path);
  if (!m) return false;
  if (req.method !== 'DELETE') throw new HttpError(405, 'use DELETE');
  const by = approverOf(deps, req);
  const s = await muteHttp(() => expireSilence(deps.store, decodeSegment(m[1] ?? ''), by, now));
  sendJson(res, 200, { silence: s });
  return true;
}

const stepDoneBody = z.strictObject({
  as: z.string().max(100).optional(),
  note: z.string().max(1000).optional(),
  // The JSON API is called by the CLI or by scripts; the page, Slack and email have routes of their own, so
  // a caller here may say only which of the two it is (and only with a valid token, checked below).
  via: z.enum(['api', 'cli'], 'expected "api" or "cli" (the page, Slack and email mark steps through their own routes)').optional(),
});

/** POST /api/incidents/ID/steps/N/done: an approver (bearer token) marks the awaiting manual step N done. */
async function handleStepDone(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const m = /^\/api\/incidents\/([^/]+)\/steps\/([^/]+)\/done$/.exec(path);
  if (!m) return false;
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  const step = Number(m[2]);
  if (!/^[0-9]{1,4}$/.test(m[2] ?? '') || step < 1) throw new HttpError(400, `expected a step number from 1, got "${m[2] ?? ''}"`);
  if (!tokensAllowed(deps.policy.doc.server.albOidc)) throw new HttpError(403, TOKENS_OFF);
  const parsed = stepDoneBody.safeParse(await readJson(req));
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  requireKnownApprover(deps, parsed.data.as);
  const approver = approverOf(deps, req);
  if (parsed.data.as !== undefined && parsed.data.as !== approver) throw new HttpError(403, `this token belongs to ${approver}, not ${parsed.data.as}`);
  try {
    const inc = await markStepDone(deps.store, deps.policy, { incidentId: decodeSegment(m[1] ?? ''), step, approver, identity: `token:${approver}`, channel: parsed.data.via ?? 'api', ...(parsed.data.note ? { note: parsed.data.note } : {}) }, deps.clock.now());
    sendJson(res, 200, { step: inc.steps.find((s) => s.index === step - 1) ?? null, state: inc.state, reason: inc.reason });
  } catch (err) {
    if (err instanceof StepDoneError) throw new HttpError(err.status, err.message);
    throw err;
  }
  return true;
}

export async function handleApi(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean> {
  if (path === '/api/silences' || path.startsWith('/api/silences/')) return handleSilences(deps, req, res, path, url);
  if (req.method === 'GET' && path === '/api/incidents') {
    const state = url.searchParams.get('state');
    if (state !== null && !isIncidentState(state)) throw new HttpError(400, `unknown state "${state}"`);
    const service = url.searchParams.get('service');
    const incidents = await deps.store.listIncidents({ ...(state ? { states: [state] } : {}), ...(service ? { service } : {}) });
    sendJson(res, 200, { incidents: incidents.map((i) => ({ id: i.id, service: i.service, state: i.state, reason: i.reason, onsetAt: i.onsetAt, openedAt: i.openedAt, expiresAt: i.approval?.expiresAt ?? null, suspect: i.correlation?.suspect?.deployment.id ?? null, runbookHash: i.runbook?.hash ?? null, executedActions: i.steps.length, mutedBy: i.mutes.map((m) => m.id), mutes: i.mutes.map((m) => ({ id: m.id, kind: m.kind, by: m.by, reason: m.reason, until: m.until })) })) });
    return true;
  }
  const au = /^\/api\/incidents\/([^/]+)\/audit$/.exec(path);
  if (au) {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    const id = decodeSegment(au[1] ?? '');
    if (!(await deps.store.getIncident(id))) throw new HttpError(404, `no incident ${id}`);
    // The incident's whole trail, and the check of the whole chain it is part of.
    sendJson(res, 200, { records: await deps.store.listAudit({ incidentId: id }), verification: await deps.store.verifyAudit() });
    return true;
  }
  if (await handleFollowUp(deps, req, res, path)) return true;
  if (await handleStepDone(deps, req, res, path)) return true;
  const m = /^\/api\/incidents\/([^/]+)(?:\/(approve|reject))?$/.exec(path);
  if (!m) return false;
  const id = decodeSegment(m[1] ?? '');
  if (!m[2]) {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    sendJson(res, 200, await incidentDetail(deps, id));
    return true;
  }
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  if (!tokensAllowed(deps.policy.doc.server.albOidc)) throw new HttpError(403, TOKENS_OFF);
  const parsed = decisionBody.safeParse(await readJson(req));
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  requireKnownApprover(deps, parsed.data.as);
  const approver = approverForToken(deps.policy.doc.approvers, bearerToken(req));
  if (!approver) throw new HttpError(401, 'unknown or missing approver token (Authorization: Bearer …)');
  if (parsed.data.as !== undefined && parsed.data.as !== approver) throw new HttpError(403, `this token belongs to ${approver}, not ${parsed.data.as}`);
  const verdict = m[2] === 'approve' ? 'approve' : 'reject';
  if (verdict === 'reject' && !parsed.data.reason) throw new HttpError(400, 'a reject needs a reason');
  const out = await deps.watcher.decide({
    incidentId: id,
    approver,
    verdict,
    runbookHash: parsed.data.runbookHash,
    channel: parsed.data.via ?? 'api',
    identity: `token:${approver}`,
    ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}),
  });
  sendJson(res, 200, { decision: out.decision, outcome: out.outcome, state: out.incident?.state ?? null });
  return true;
}
