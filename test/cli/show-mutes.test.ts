import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { showText } from '../../src/cli/show-text.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';

/** Issue 15 bug 2 in `cloudops show`: a silenced incident names its silence — who, why, until when — and says when it has ended. */
describe('cloudops show and mutes', () => {
  const t0 = Date.parse('2026-11-02T08:05:00Z') as EpochMs;
  const inc: Incident = {
    ...newIncident('checkout-20261102-0803', 'checkout', [], t0),
    onsetAt: (t0 - 120_000) as EpochMs,
    mutes: [{ id: 'sil-1ebe3a35ee', by: 'alice', kind: 'silence', reason: 'payment provider failover drill', at: t0, until: (t0 + 2 * 3_600_000) as EpochMs, metrics: ['checkout5xx'] }],
  };
  const show = (now: number): string => showText({ incident: inc, decisions: [], quorum: null, executedActions: 0, clock: { now, virtual: true } }).join('\n');

  it('while the silence lasts: "muted by" the silence, its author, reason and end', () => {
    const text = show(t0 + 60_000);
    expect(text).toMatch(/^ {2}muted by .*sil-1ebe3a35ee.*alice.*payment provider failover drill.* until 2026-11-02 10:05/m);
  });

  it('after it ended: "was muted by"', () => {
    expect(show(t0 + 3 * 3_600_000)).toMatch(/^ {2}was muted by .*sil-1ebe3a35ee/m);
  });
});
