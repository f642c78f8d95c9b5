import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { z } from 'zod';
import { approverForToken } from '../approval/approver-tokens.js';
import type { AskChannel, AskOutcome, AskService } from '../agent/ask.js';
import { questionThreads } from '../agent/ask-threads.js';
import { requireSameOriginForm } from './csrf.js';
import { bearerToken, decodeSegment, HttpError, readForm, readJson, sendJson } from './http.js';
import { albOidcVerifier, IdentityResolver, tokensAllowed, type AlbOidcSettings } from './identity.js';
import type { ServerDeps } from './server.js';
import { renderIncident, type Route } from './web-routes.js';

/** Who asks: an approver (ALB sign-in or token) or a reader (an `mcp.readers` token). */
export interface Asker {
  readonly name: string;
  readonly identity: string;
}

export interface AskRouteOptions {
  readonly alb?: AlbOidcSettings | null;
  /** Tests: serves the ALB public key locally. */
  readonly jwksCache?: JwksCache;
}

const apiBody = z.strictObject({ question: z.string().max(10_000) });

/**
 * The questions routes:
 * - POST /incidents/ID/ask: the page's form (CSRF like the decision form), answered with the page and a notice;
 * - POST /api/incidents/ID/questions `{ question }` with a bearer token: 202 `{ questionId }`;
 * - GET /api/incidents/ID/questions with a bearer token: the questions and answers so far.
 * A question is refused (409 with the reason) when the agent is off, 429 past the asker's hourly limit.
 * Nothing here can reach a decision or the runbook: the service only appends audit records.
 */
export function askRoutes(deps: ServerDeps, ask: AskService, o: AskRouteOptions = {}): Route {
  const ids = new IdentityResolver(deps.policy.doc.approvers, o.alb ? albOidcVerifier(o.alb, o.jwksCache) : null, tokensAllowed(o.alb));

  /** A reader token works whatever `tokensAllowed` says (it can only read); an approver token as the decision form allows. */
  const fromToken = (token: string | null): Asker | null => {
    const reader = approverForToken(deps.policy.doc.mcp.readers, token);
    if (reader) return { name: `reader:${reader}`, identity: `reader-token:${reader}` };
    const who = ids.fromToken(token);
    return who ? { name: who.approver, identity: who.identity } : null;
  };

  const submit = (incidentId: string, question: string, who: Asker, channel: AskChannel): Promise<AskOutcome> => ask.ask({ incidentId, question, asker: who.name, identity: who.identity, channel });

  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const page = /^\/incidents\/([^/]+)\/ask$/.exec(path);
    if (page) {
      if (req.method !== 'POST') throw new HttpError(405, 'questions are asked with the form (POST)');
      const id = decodeSegment(page[1] ?? '');
      const form = await readForm(req);
      const signedIn = await ids.fromAlb(req);
      requireSameOriginForm(req, form.get('csrf'), signedIn?.identity ?? '');
      const who: Asker | null = signedIn ? { name: signedIn.approver, identity: signedIn.identity } : fromToken(form.get('token'));
      const view = signedIn ? { form: { kind: 'oidc' as const, approver: signedIn.approver, identity: signedIn.identity }, csrfBinding: signedIn.identity } : {};
      if (!who) {
        await renderIncident(deps, req, res, id, { ...view, notice: 'Unknown approver or reader token: the question was not asked.', status: 401 });
        return true;
      }
      const out = await submit(id, form.get('question') ?? '', who, 'web');
      if (out.kind === 'refused' && out.status === 404) throw new HttpError(404, out.reason);
      const notice = out.kind === 'accepted' ? `${who.name}: your question is recorded; the agent is answering (reload in a moment). It cannot change the runbook or any decision.` : `Question not accepted: ${out.reason}`;
      await renderIncident(deps, req, res, id, { ...view, notice, status: out.kind === 'accepted' ? 200 : out.status });
      return true;
    }
    const api = /^\/api\/incidents\/([^/]+)\/questions$/.exec(path);
    if (!api) return false;
    const id = decodeSegment(api[1] ?? '');
    const who = fromToken(bearerToken(req));
    if (!who) throw new HttpError(401, 'unknown or missing approver or reader token (Authorization: Bearer …)');
    if (req.method === 'GET') {
      if (!(await deps.store.getIncident(id))) throw new HttpError(404, `no incident ${id}`);
      sendJson(res, 200, { availability: ask.availability, questions: questionThreads(await deps.store.listAudit({ incidentId: id })) });
      return true;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use GET or POST');
    const parsed = apiBody.safeParse(await readJson(req));
    if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const out = await submit(id, parsed.data.question, who, 'api');
    if (out.kind === 'refused') throw new HttpError(out.status, out.reason);
    sendJson(res, 202, { questionId: out.questionId, askedBy: who.name });
    return true;
  };
}
