import { describe, expect, it } from 'vitest';
import { faultSequences } from '../helpers/fault-sequences.js';

// Issue 9's property, seeds FROM..TO of 2,000 (two files, so both halves run in parallel workers).
const FROM = 1001;
const TO = 2000;

describe('property: with random faults in every port call, every incident keeps moving and nothing runs unauthorized', () => {
  it(`random sequences ${FROM}..${TO} on the simulated cloud: every incident leaves each non-terminal state within its bound; every action was authorized when it ran`, async () => {
    const t = await faultSequences(FROM, TO);
    expect(t.violations.slice(0, 10)).toEqual([]);
    // The sequences reached the interesting ends, with faults really injected and actions really run.
    const n = TO - FROM + 1;
    expect(t.injected).toBeGreaterThan(n);
    expect(t.executed).toBeGreaterThan(n / 10);
    for (const s of ['resolved', 'needs_human', 'expired', 'rejected'] as const) expect(t.seen.get(s) ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
