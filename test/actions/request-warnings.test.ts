import { describe, expect, it } from 'vitest';
import { requestWarnings, type RequestConditions } from '../../src/approval/request-warnings.js';

const BASE: RequestConditions = { killSwitchOn: false, mode: 'live', freeze: null, stepsLastHour: 0, maxActionsPerHour: 10, steps: 1 };

describe('warnings on the approval request itself', () => {
  it.each<[string, Partial<RequestConditions>, RegExp]>([
    ['the kill switch is on', { killSwitchOn: true }, /kill switch is on/],
    ['shadow mode', { mode: 'shadow' }, /shadow mode — nothing will be executed/],
    ['dry-run mode', { mode: 'dryRun' }, /dry-run mode/],
    ['a freeze is active', { freeze: 'black-friday' }, /freeze "black-friday" is active/],
    ['the budget is nearly spent', { stepsLastHour: 8 }, /nearly spent \(8 of 10/],
    ['the budget is too small for the runbook', { stepsLastHour: 9, steps: 2 }, /spent or too small.*2 needed/],
  ])('warns when %s', (_name, change, expected) => {
    const w = requestWarnings({ ...BASE, ...change });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(expected);
  });

  it('says nothing when no condition holds', () => {
    expect(requestWarnings(BASE)).toEqual([]);
  });
});
