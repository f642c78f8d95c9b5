import { HttpError } from './http.js';

export interface FormDecision {
  readonly verdict: 'approve' | 'reject';
  readonly reason?: string;
}

/**
 * The verdict a decision form posted, refused unless it is unambiguous. An approval must come from the
 * approve form: the review box ticked and no reason (a reason belongs to a reject, so an "approval"
 * carrying one is someone who meant to reject and pressed Enter, or a forged post). A reject needs a
 * reason. Shared by the incident page and the email-link page.
 */
export function decisionFromForm(form: URLSearchParams): FormDecision {
  const verdicts = form.getAll('verdict');
  if (verdicts.includes('enter')) throw new HttpError(400, 'pressing Enter never approves: tick the box and click "Approve this runbook" (or type a reason and reject); nothing was recorded');
  const verdict = verdicts.length === 1 ? verdicts[0] : null;
  if (verdict !== 'approve' && verdict !== 'reject') throw new HttpError(400, 'verdict must be approve or reject (one of the two buttons); nothing was recorded');
  const reason = form.getAll('reason').join(' ').trim();
  if (verdict === 'approve') {
    if (reason) throw new HttpError(400, 'an approval carries no reason (the reason field belongs to a reject); nothing was recorded');
    if (form.get('confirm') !== 'yes') throw new HttpError(400, 'tick "I reviewed the actions above" to approve; nothing was recorded');
    return { verdict };
  }
  if (!reason) throw new HttpError(400, 'a reject needs a reason; nothing was recorded');
  return { verdict, reason };
}
