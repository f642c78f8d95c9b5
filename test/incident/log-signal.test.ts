import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { groupEvents } from '../../src/incident/grouping.js';
import { emptyLogSignalState, FLOOR_PER_MIN, LEARN_AFTER_MS, logSignals } from '../../src/incident/log-signal.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): number => T + min * MINUTE;
/** `perMin` lines a minute of `message` over [from, to) minutes. */
const lines = (message: string, from: number, to: number, perMin: number): LogRecord[] => {
  const out: LogRecord[] = [];
  for (let m = from; m < to; m++) for (let i = 0; i < perMin; i++) out.push({ t: (at(m) + (i * MINUTE) / perMin) as EpochMs, group: '/ecs/checkout', message: message.replace('#', String(1000 + m * 7 + i)) });
  return out;
};
const normal = (from: number, to: number): LogRecord[] => [...lines('GET /cart/# 200 in 20ms', from, to, 4), ...lines('WARN slow response #ms', from, to, 1)];

describe('log signals: a new error template is a signal of its own', () => {
  it('the first read learns the normal log, and opens nothing even for error lines in it', () => {
    const st = emptyLogSignalState();
    const old = lines('ERROR cache miss key=#', -60, 0, 3);
    expect(logSignals('checkout', st, [...normal(-60, 0), ...old], at(-60), at(0), true)).toEqual([]);
    expect(logSignals('checkout', st, [...normal(0, 5), ...lines('ERROR cache miss key=#', 0, 5, 3)], at(0), at(5), false)).toEqual([]);
  });

  it('a new error template at or above its floor is anomalous per minute, with its onset; below the floor it is not', () => {
    const st = emptyLogSignalState();
    logSignals('checkout', st, normal(-60, 0), at(-60), at(0), true);
    const ev = logSignals('checkout', st, [...normal(0, 4), ...lines('ERROR NullPointerException in Cart.total id=#', 1, 4, FLOOR_PER_MIN)], at(0), at(4), false);
    expect(ev.map((e) => [e.t - T, e.anomalous])).toEqual([[0, false], [1 * MINUTE, true], [2 * MINUTE, true], [3 * MINUTE, true]]);
    expect(ev[1]?.metricName).toBe('log "ERROR NullPointerException in Cart.total id=<NUM>"');
    expect(ev[1]?.onsetT).toBe(at(1));
    const st2 = emptyLogSignalState();
    logSignals('checkout', st2, normal(-60, 0), at(-60), at(0), true);
    expect(logSignals('checkout', st2, lines('ERROR rare failure #', 0, 4, 1), at(0), at(4), false).every((e) => !e.anomalous)).toBe(true);
  });

  it('a template that stopped reports zero lines (so its signal clears), and after LEARN_AFTER_MS it is normal', () => {
    const st = emptyLogSignalState();
    logSignals('checkout', st, normal(-60, 0), at(-60), at(0), true);
    logSignals('checkout', st, lines('ERROR pool exhausted #', 0, 3, 5), at(0), at(3), false);
    const quiet = logSignals('checkout', st, normal(3, 5), at(3), at(5), false);
    expect(quiet.map((e) => [e.value, e.anomalous])).toEqual([[0, false], [0, false]]);
    const later = LEARN_AFTER_MS / MINUTE + 1;
    expect(logSignals('checkout', st, lines('ERROR pool exhausted #', later, later + 2, 5), at(later), at(later + 2), false)).toEqual([]);
  });

  it('through grouping, a log signal alone opens an incident after the minimum duration', () => {
    const st = emptyLogSignalState();
    logSignals('checkout', st, normal(-60, 0), at(-60), at(0), true);
    const ev = logSignals('checkout', st, lines('ERROR schema column "x" missing #', 0, 3, 4), at(0), at(3), false);
    const r = groupEvents([], ev, { groupIntervalMs: 10 * MINUTE, clearAfterMs: 5 * MINUTE });
    const signals = r.newSignals.get('checkout') ?? [];
    expect(signals).toHaveLength(1);
    expect(signals[0]?.startedAt).toBe(at(0));
  });
});
