import { describe, expect, it } from 'vitest';
import { holdAlarm, holdBar, initIncidentHold } from '../../src/detect/incident-hold.js';

const H = 3_600_000;

describe('incident hold (one incident, one alarm; started only by alarms)', () => {
  it('has no bar before an alarm; after one, a score must beat s + jump·(1 − s) until the hold ends', () => {
    const st = initIncidentHold();
    expect(holdBar(st, 5 * H, 12 * H)).toBe(0);
    holdAlarm(st, 5 * H, 0.8, 0.3);
    expect(holdBar(st, 6 * H, 12 * H)).toBeCloseTo(0.86, 10);
    expect(holdBar(st, 17 * H - 1, 12 * H)).toBeCloseTo(0.86, 10);
    expect(holdBar(st, 17 * H, 12 * H)).toBe(0);
  });
});
