import { afterEach, describe, expect, it } from 'vitest';
import { FaultSpecError, faultPoint, installFaultHook, parseFaultSpec, type FaultSpec } from '../../src/core/fault-hook.js';

afterEach(() => {
  installFaultHook(undefined);
});

describe('the crash-test fault hook', () => {
  it('parses NAME:phase and NAME:phase#N', () => {
    expect(parseFaultSpec('step.started:after')).toEqual({ point: 'step.started', phase: 'after', nth: 1 });
    expect(parseFaultSpec('transition.executing:before#3')).toEqual({ point: 'transition.executing', phase: 'before', nth: 3 });
  });

  it('refuses a malformed spec with an error naming it', () => {
    for (const bad of ['step.started', 'step.started:during', ':after', 'step.started:after#0', 'Step:after']) {
      expect(() => parseFaultSpec(bad)).toThrow(FaultSpecError);
    }
    expect(() => installFaultHook('nope')).toThrow(/"nope" is not NAME:before or NAME:after/);
  });

  it('is inert when no spec is installed, and when the spec is empty', () => {
    const kills: FaultSpec[] = [];
    expect(installFaultHook('', (s) => kills.push(s))).toBeNull();
    faultPoint('step.started', 'after');
    expect(kills).toEqual([]);
  });

  it('fires exactly at the Nth time its point and phase are reached, not at other points or phases', () => {
    const kills: FaultSpec[] = [];
    installFaultHook('step.started:after#2', (s) => kills.push(s));
    faultPoint('step.started', 'before');
    faultPoint('step.finished', 'after');
    faultPoint('step.started', 'after');
    expect(kills).toEqual([]);
    faultPoint('step.started', 'after');
    expect(kills).toEqual([{ point: 'step.started', phase: 'after', nth: 2 }]);
    faultPoint('step.started', 'after');
    expect(kills).toHaveLength(1);
  });
});
