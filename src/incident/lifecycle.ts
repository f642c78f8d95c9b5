/**
 * The incident lifecycle of DESIGN.md as a pure transition function.
 *
 * detected → drafting → awaiting_approval → approved → executing → verifying → resolved
 *              │              │                           │            └──► not_recovered → needs_human
 *              │              ├──► rejected               └──► failed ──────────────────► needs_human
 *              │              ├──► expired / superseded / withdrawn
 *              │              └──► drafting (re-draft: a reject with a reason, or new evidence)
 *              └──► needs_human
 *
 * A person's follow-up after expire, reject or a hand-over (`FOLLOW_UPS`): re-propose (→ awaiting_approval,
 * a new request), assign to someone (→ needs_human), close with a note (→ closed).
 */
export const INCIDENT_STATES = [
  'detected',
  'drafting',
  'awaiting_approval',
  'approved',
  'executing',
  'verifying',
  'resolved',
  'not_recovered',
  'failed',
  'needs_human',
  'rejected',
  'expired',
  'superseded',
  'withdrawn',
  'closed',
] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

const NEXT: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  detected: ['drafting', 'withdrawn', 'needs_human'],
  drafting: ['awaiting_approval', 'needs_human', 'withdrawn'],
  // → drafting: a new version is drafted; the request it replaces is kept as superseded (Incident.requests).
  awaiting_approval: ['approved', 'rejected', 'expired', 'superseded', 'withdrawn', 'drafting'],
  approved: ['executing', 'expired'],
  // executing → expired only when no step started (approval.executeWithin passed, e.g. after a restart).
  executing: ['verifying', 'failed', 'needs_human', 'expired'],
  verifying: ['resolved', 'not_recovered'],
  not_recovered: ['needs_human'],
  failed: ['needs_human'],
  resolved: [],
  needs_human: [],
  rejected: [],
  expired: [],
  superseded: [],
  withdrawn: [],
  closed: [],
};

/** States in which the watcher does nothing more to an incident (a person's follow-up still may, see FOLLOW_UPS). */
export const TERMINAL_STATES: ReadonlySet<IncidentState> = new Set(
  INCIDENT_STATES.filter((s) => NEXT[s].length === 0),
);

/** States in which the incident still counts as "open" for its service (new signals join it). */
export const OPEN_STATES: ReadonlySet<IncidentState> = new Set<IncidentState>([
  'detected',
  'drafting',
  'awaiting_approval',
  'approved',
  'executing',
  'verifying',
]);

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: IncidentState,
    readonly to: IncidentState,
  ) {
    super(`illegal incident transition ${from} → ${to} (allowed from ${from}: ${NEXT[from].join(', ') || 'none'})`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: IncidentState, to: IncidentState): boolean {
  return NEXT[from].includes(to);
}

/** Returns `to` when the move is legal; throws IllegalTransitionError otherwise. */
export function transition(from: IncidentState, to: IncidentState): IncidentState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}

export function isIncidentState(s: string): s is IncidentState {
  return (INCIDENT_STATES as readonly string[]).includes(s);
}

/** What a person can do with an incident the watcher is done with. */
export type FollowUpKind = 'repropose' | 'assign' | 'close';
export const FOLLOW_UP_KINDS: readonly FollowUpKind[] = ['repropose', 'assign', 'close'];

/**
 * A person's next step after expire, reject or a hand-over, and where it leads: re-propose asks for
 * approval again (a new request for the same incident; only where a runbook was refused or timed out),
 * assign hands it to a named person (needs_human records who), close ends it with a note.
 */
const FOLLOW_UPS: Readonly<Record<FollowUpKind, Readonly<Partial<Record<IncidentState, IncidentState>>>>> = {
  repropose: { rejected: 'awaiting_approval', expired: 'awaiting_approval' },
  assign: { rejected: 'needs_human', expired: 'needs_human', needs_human: 'needs_human' },
  close: { rejected: 'closed', expired: 'closed', needs_human: 'closed', withdrawn: 'closed' },
};

export type FollowUpVerdict = { readonly ok: true; readonly to: IncidentState } | { readonly ok: false; readonly why: string };

/** Where `kind` takes an incident in `from`, or why it cannot. Pure. */
export function followUp(from: IncidentState, kind: FollowUpKind): FollowUpVerdict {
  const to = FOLLOW_UPS[kind][from];
  if (to) return { ok: true, to };
  const allowed = Object.keys(FOLLOW_UPS[kind]).join(', ');
  return { ok: false, why: `cannot ${kind} an incident that is ${from} (only when ${allowed})` };
}

/** What set off a re-draft: a reject with a reason, a new deployment, or another service failing. */
export type RedraftTrigger =
  | { readonly kind: 'rejected'; readonly by: string; readonly reason: string }
  | { readonly kind: 'new_deployment'; readonly deploymentId: string; readonly pipeline: string; readonly service: string }
  | { readonly kind: 'service_failing'; readonly service: string; readonly incidentId: string };

export type RedraftVerdict = { readonly redraft: true } | { readonly redraft: false; readonly why: string };

/**
 * Whether a trigger lets the planner draft a new version: only while awaiting approval, only a reject
 * that says why (a bare "no" ends the request), and at most `max` re-drafts per incident. Pure.
 */
export function mayRedraft(state: IncidentState, trigger: RedraftTrigger, done: number, max: number): RedraftVerdict {
  if (state !== 'awaiting_approval') return { redraft: false, why: `the incident is ${state}, not awaiting approval` };
  if (trigger.kind === 'rejected' && trigger.reason.trim() === '') return { redraft: false, why: 'the reject gave no reason to draft against' };
  if (done >= max) return { redraft: false, why: `${done} of ${max} re-draft(s) used` };
  return { redraft: true };
}

/** The trigger in plain words, for reasons and announcements. */
export function describeTrigger(t: RedraftTrigger): string {
  switch (t.kind) {
    case 'rejected':
      return `${t.by} rejected it: ${t.reason}`;
    case 'new_deployment':
      return `a new deployment ${t.deploymentId} of ${t.pipeline} (${t.service})`;
    case 'service_failing':
      return `${t.service} is failing too (incident ${t.incidentId})`;
  }
}
