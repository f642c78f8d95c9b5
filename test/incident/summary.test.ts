import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Correlation, LogEvidence } from '../../src/incident/incident.js';
import { proposalSummary } from '../../src/incident/summary.js';

const t = 0 as EpochMs;
const suspect: Correlation = {
  suspect: {
    deployment: { id: '5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003', pipeline: 'checkout-deploy', status: 'Succeeded', startedAt: t, revisionSummary: 'Switch the payment client to the v2 API' },
    score: 0.9,
    reasons: ['pipeline checkout-deploy deploys checkout', 'its deploy stage finished 1 min before the onset', 'it changed 412 lines'],
  },
  verdict: 'deployment 5a6b… is the likely cause',
  candidates: [],
};
const logs: LogEvidence = {
  groups: ['/ecs/checkout'],
  baseline: { start: t, end: t, lines: 100 },
  onset: { start: t, end: t, lines: 200 },
  templates: [{ template: 'ERROR PaymentClientV2 timeout after <NUM> calling payments order=<NUM>', baselineCount: 0, onsetCount: 120, isNew: true, samples: [] }],
};

describe('the one-line summary in the proposal', () => {
  it('names the suspect with its revision and first two reasons, and the top log template', () => {
    expect(proposalSummary(suspect, logs)).toBe(
      'suspect checkout-deploy 5a6b7c8d "Switch the payment client to the v2 API": pipeline checkout-deploy deploys checkout; its deploy stage finished 1 min before the onset — logs: new "ERROR PaymentClientV2 timeout after <NUM> calling payments order=<NUM>" (0 → 120)',
    );
  });

  it('says why there is no suspect, and leaves out what is unknown', () => {
    const none: Correlation = { suspect: null, verdict: 'no deployment explains this: nothing deployed checkout or a service it depends on in the 2.0 h before the onset', candidates: [] };
    expect(proposalSummary(none, null)).toBe('no suspect (nothing deployed checkout or a service it depends on in the 2.0 h before the onset)');
    expect(proposalSummary(null, null)).toBe('');
  });
});
