import { describe, expect, it } from 'vitest';
import { baseline, incidentEvents, runSummary } from '../../src/cli/run-output.js';
import { epochMs, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { Decision, Incident } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';

const T0 = epochMs(Date.parse('2026-11-02T08:00:00Z'));
const at = (min: number): EpochMs => epochMs(T0 + min * MINUTE);
const opened = (): Incident => {
  const i = newIncident('checkout-1', 'checkout', [{ metricId: 'm5xx', metricName: '5xx', direction: 'up', startedAt: at(3), lastAnomalousAt: at(4), clearedAt: null, peakScore: 9, peakValue: 40, expected: 3 }], at(5));
  return i;
};
const step = (i: Incident, f: (n: Incident) => void, min: number): Incident => {
  const n = structuredClone(i);
  f(n);
  n.version += 1;
  n.updatedAt = at(min);
  return n;
};
const proposed = (i: Incident): Incident =>
  step(i, (n) => {
    n.state = 'awaiting_approval';
    n.runbook = { templateId: 't', title: 'Roll back', risk: 'medium', steps: [], verify: { withinMs: 600_000, healthyPolls: 3 }, body: '', draftedBy: 'template', hash: 'sha256:abc' } as unknown as Incident['runbook'];
    n.approval = { runbookHash: 'sha256:abc', requestedAt: at(6), expiresAt: at(36), requiredApprovals: 1, excludedApprovers: [], channels: ['console'], remindersSent: 0, escalated: false };
  }, 6);
const decision: Decision = { incidentId: 'checkout-1', approver: 'alice', verdict: 'approve', runbookHash: 'sha256:abc', at: at(7), channel: 'cli', identity: 'token:alice' };
const BASE = 'http://127.0.0.1:8080';

describe('cloudops run --json: the events between two looks at the store (issue 15 item 13)', () => {
  it('opened, proposed, decided, resolved — each once, in order, as JSON-safe objects', () => {
    const a = opened();
    const first = incidentEvents(new Map(), [a], new Map(), BASE);
    const b = proposed(a);
    const second = incidentEvents(first.seen, [b], new Map(), BASE);
    const c = step(b, (n) => {
      n.state = 'resolved';
      n.reason = 'recovered';
      n.steps = [{ index: 0, action: 'codepipeline.rollback', idempotencyKey: 'k', status: 'succeeded', startedAt: at(8), endedAt: at(9), summary: 'ok' }];
    }, 12);
    const third = incidentEvents(second.seen, [c], new Map([['checkout-1', [decision]]]), BASE);
    const again = incidentEvents(third.seen, [c], new Map([['checkout-1', [decision]]]), BASE);

    expect(first.events.map((e) => e.type)).toEqual(['incident.opened']);
    expect(first.events[0]).toMatchObject({ incidentId: 'checkout-1', service: 'checkout', onsetAt: '2026-11-02T08:03:00.000Z', url: `${BASE}/incidents/checkout-1` });
    expect(second.events).toEqual([{ type: 'incident.proposed', incidentId: 'checkout-1', at: '2026-11-02T08:06:00.000Z', runbookHash: 'sha256:abc', title: 'Roll back', risk: 'medium', requiredApprovals: 1, expiresAt: '2026-11-02T08:36:00.000Z', url: `${BASE}/incidents/checkout-1` }]);
    // Executing and verifying happened between the looks: not invented.
    expect(third.events.map((e) => e.type)).toEqual(['incident.decided', 'incident.resolved']);
    expect(third.events[0]).toMatchObject({ approver: 'alice', verdict: 'approve', channel: 'cli' });
    expect(third.events[1]).toMatchObject({ state: 'resolved', actionsRun: 1, reason: 'recovered' });
    expect(again.events).toEqual([]);
    for (const e of [...first.events, ...second.events, ...third.events]) expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('an incident first seen already proposed reports its opening and the proposal; a re-proposal is a new proposal', () => {
    const b = proposed(opened());
    const r = incidentEvents(new Map(), [b], new Map(), BASE);
    expect(r.events.map((e) => e.type)).toEqual(['incident.opened', 'incident.proposed']);
    const again = step(b, (n) => {
      if (n.approval) n.approval = { ...n.approval, requestedAt: at(40), expiresAt: at(70) };
    }, 40);
    expect(incidentEvents(r.seen, [again], new Map(), BASE).events.map((e) => e.type)).toEqual(['incident.proposed']);
  });

  it('other states are reported as moves; an expiry is an end, not a resolution', () => {
    const b = proposed(opened());
    const seen = baseline([b], new Map());
    const expired = step(b, (n) => {
      n.state = 'expired';
      n.reason = 'nobody decided in time';
    }, 40);
    expect(incidentEvents(seen, [expired], new Map(), BASE).events).toEqual([{ type: 'incident.ended', incidentId: 'checkout-1', at: '2026-11-02T08:40:00.000Z', state: 'expired', reason: 'nobody decided in time', actionsRun: 0 }]);
    const drafting = step(opened(), (n) => (n.state = 'drafting'), 6);
    expect(incidentEvents(baseline([opened()], new Map()), [drafting], new Map(), BASE).events).toMatchObject([{ type: 'incident.state', from: 'detected', to: 'drafting' }]);
  });

  it('history already in the store at start is not reported again', () => {
    const b = proposed(opened());
    expect(incidentEvents(baseline([b], new Map([['checkout-1', [decision]]])), [b], new Map([['checkout-1', [decision]]]), BASE).events).toEqual([]);
  });

  it('the summary counts incidents by state and the events printed', () => {
    const s = runSummary([proposed(opened()), opened()], [{ type: 'run.started', url: BASE, policy: 'p', incidents: 0 }, { type: 'run.error', error: 'x' }, { type: 'run.error', error: 'y' }]);
    expect(s).toEqual({ type: 'run.summary', incidents: 2, byState: { awaiting_approval: 1, detected: 1 }, events: { 'run.started': 1, 'run.error': 2 } });
  });
});
