import { describe, expect, it } from 'vitest';
import { canTransition, IllegalTransitionError, INCIDENT_STATES, TERMINAL_STATES, transition } from '../../src/incident/lifecycle.js';

describe('incident lifecycle', () => {
  it('follows the happy path of DESIGN.md', () => {
    const path = ['detected', 'drafting', 'awaiting_approval', 'approved', 'executing', 'verifying', 'resolved'] as const;
    for (let i = 1; i < path.length; i++) expect(transition(path[i - 1]!, path[i]!)).toBe(path[i]);
  });

  it('throws a typed error on an illegal transition', () => {
    expect(() => transition('awaiting_approval', 'executing')).toThrow(IllegalTransitionError);
    expect(() => transition('expired', 'approved')).toThrow(/illegal incident transition expired → approved/);
  });

  it('never reaches approved except from awaiting_approval, and executing only from approved', () => {
    for (const s of INCIDENT_STATES) {
      expect(canTransition(s, 'approved')).toBe(s === 'awaiting_approval');
      expect(canTransition(s, 'executing')).toBe(s === 'approved');
    }
  });

  it('terminal states go nowhere', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['closed', 'expired', 'needs_human', 'rejected', 'resolved', 'superseded', 'withdrawn']);
    for (const t of TERMINAL_STATES) for (const s of INCIDENT_STATES) expect(canTransition(t, s)).toBe(false);
  });

  it('failed and not_recovered hand over to a person', () => {
    expect(transition('failed', 'needs_human')).toBe('needs_human');
    expect(transition('not_recovered', 'needs_human')).toBe('needs_human');
  });
});
