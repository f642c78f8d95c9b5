import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { approverForToken } from '../approval/approver-tokens.js';
import { addMs } from '../core/time.js';
import { applyFollowUp, FollowUpError } from '../pipeline/follow-up.js';
import { bearerToken, decodeSegment, HttpError, readJson, sendJson } from './http.js';
import { tokensAllowed, TOKENS_OFF } from './identity.js';
import type { ServerDeps } from './server.js';

const followUpBody = z.strictObject({
  as: z.string().max(100).optional(),
  to: z.string().max(100).optional(),
  note: z.string().max(1000).optional(),
});

/**
 * POST /api/incidents/ID/repropose|assign|close with an approver's bearer token: a person's next step
 * after expire, reject or a hand-over. Body: `{ note?, to? (assign), as? }`. Answers the incident's new
 * state; a refused follow-up answers 4xx and changes nothing.
 */
export async function handleFollowUp(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const m = /^\/api\/incidents\/([^/]+)\/(repropose|assign|close)$/.exec(path);
  if (!m) return false;
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  if (!tokensAllowed(deps.policy.doc.server.albOidc)) throw new HttpError(403, TOKENS_OFF);
  const by = approverForToken(deps.policy.doc.approvers, bearerToken(req));
  if (!by) throw new HttpError(401, 'unknown or missing approver token (Authorization: Bearer …)');
  const parsed = followUpBody.safeParse(await readJson(req));
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  if (parsed.data.as !== undefined && parsed.data.as !== by) throw new HttpError(403, `this token belongs to ${by}, not ${parsed.data.as}`);
  const kind = m[2] as 'repropose' | 'assign' | 'close';
  const now = deps.clock.now();
  const pipeline = deps.watcher.deps;
  const ctx = { now, deadline: addMs(now, pipeline.settings.stageTimeoutMs), signal: AbortSignal.timeout(pipeline.settings.stageTimeoutMs) };
  try {
    const inc = await applyFollowUp(pipeline, ctx, {
      incidentId: decodeSegment(m[1] ?? ''),
      kind,
      by,
      ...(parsed.data.to !== undefined ? { to: parsed.data.to } : {}),
      ...(parsed.data.note !== undefined ? { note: parsed.data.note } : {}),
    });
    sendJson(res, 200, { state: inc.state, reason: inc.reason, runbookHash: inc.runbook?.hash ?? null, assignee: inc.assignee ?? null });
  } catch (err) {
    if (err instanceof FollowUpError) throw new HttpError(err.status, err.message);
    throw err;
  }
  return true;
}
