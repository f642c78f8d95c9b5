/**
 * The incident lifecycle of DESIGN.md as a pure transition function.
 *
 * detected → drafting → awaiting_approval → approved → executing → verifying → resolved
 *              │              │                           │            └──► not_recovered → needs_human
 *              │              ├──► rejected               └──► failed ──────────────────► needs_human
 *              │              ├──► expired / superseded / withdrawn
 *              └──► needs_human
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
] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

const NEXT: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  detected: ['drafting', 'withdrawn', 'needs_human'],
  drafting: ['awaiting_approval', 'needs_human', 'withdrawn'],
  awaiting_approval: ['approved', 'rejected', 'expired', 'superseded', 'withdrawn'],
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
};

/** States in which nothing more happens to an incident. */
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
