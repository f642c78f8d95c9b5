import { describe, expect, it } from 'vitest';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { allCleared, groupEvents, stillDeviating, type GroupingConfig, type MetricEvent, type PendingSignal } from '../../src/incident/grouping.js';
import type { Incident, Signal } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;
const cfg: GroupingConfig = { groupIntervalMs: 10 * MINUTE, clearAfterMs: 5 * MINUTE };

/** One detector verdict: anomalous ones at value 50 against an expected 10. */
function ev(min: number, anomalous: boolean, o: Partial<MetricEvent> = {}): MetricEvent {
  return {
    metricId: 'checkout5xx',
    metricName: 'HTTPCode_Target_5XX_Count',
    service: 'checkout',
    t: at(min),
    anomalous,
    direction: anomalous ? 'up' : null,
    score: anomalous ? 0.9 : 0.1,
    value: anomalous ? 50 : 10,
    expected: 10,
    ...(anomalous ? { onsetT: at(min) } : {}),
    ...o,
  };
}

function signal(o: Partial<Signal> = {}): Signal {
  return { metricId: 'checkout5xx', metricName: 'HTTPCode_Target_5XX_Count', direction: 'up', startedAt: at(0), lastAnomalousAt: at(1), clearedAt: null, peakScore: 0.9, peakValue: 50, expected: 10, ...o };
}

const open = (signals: Signal[] = [signal()], o: Partial<Incident> = {}): Incident => ({ ...newIncident('checkout-1', 'checkout', signals, at(1)), ...o });

/** Plays events through groupEvents cycle by cycle (one event list per cycle), carrying pending signals. */
function play(cycles: MetricEvent[][], incidents: Incident[] = []): { incidents: Incident[]; opened: Signal[][]; pending: readonly PendingSignal[] } {
  let incs = incidents;
  let pending: readonly PendingSignal[] = [];
  const opened: Signal[][] = [];
  let n = 0;
  for (const events of cycles) {
    const r = groupEvents(incs, events, cfg, pending);
    pending = r.pending;
    incs = incs.map((i) => r.updated.find((u) => u.id === i.id) ?? i);
    for (const [service, sigs] of r.newSignals) {
      opened.push([...sigs]);
      incs = [...incs, newIncident(`${service}-${++n}`, service, sigs, events[events.length - 1]?.t ?? at(0))];
    }
  }
  return { incidents: incs, opened, pending };
}

describe('grouping anomalies into incidents', () => {
  it('a one-point blip opens nothing (minimum duration); two anomalous points open one incident', () => {
    const blip = play([[ev(0, true)], [ev(1, false)], [ev(2, false)]]);
    expect(blip.opened).toEqual([]);
    expect(blip.pending).toEqual([]);
    const real = play([[ev(0, true)], [ev(1, true)]]);
    expect(real.opened).toHaveLength(1);
    expect(real.opened[0]?.[0]).toMatchObject({ metricId: 'checkout5xx', startedAt: at(0), lastAnomalousAt: at(1) });
  });

  it('the first anomalous point waits as a pending signal that the next cycle confirms', () => {
    const r = groupEvents([], [ev(0, true)], cfg);
    expect(r.newSignals.size).toBe(0);
    expect(r.pending).toHaveLength(1);
    const r2 = groupEvents([], [ev(1, true)], cfg, r.pending);
    expect([...r2.newSignals.keys()]).toEqual(['checkout']);
    expect(r2.pending).toEqual([]);
  });

  it('a value still far from the old level counts toward the minimum duration even when the detector already adapted', () => {
    const r = play([[ev(0, true)], [ev(1, false, { value: 45 })]]);
    expect(r.opened).toHaveLength(1);
  });

  it('minPoints is configurable', () => {
    const three = (events: MetricEvent[][]) => {
      let pending: readonly PendingSignal[] = [];
      let opened = 0;
      for (const e of events) {
        const r = groupEvents([], e, { ...cfg, minPoints: 3 }, pending);
        pending = r.pending;
        opened += r.newSignals.size;
      }
      return opened;
    };
    expect(three([[ev(0, true)], [ev(1, true)]])).toBe(0);
    expect(three([[ev(0, true)], [ev(1, true)], [ev(2, true)]])).toBe(1);
  });

  it('anomalies of several metrics of the same service in one cycle form one incident', () => {
    const r = play([
      [ev(0, true), ev(0, true, { metricId: 'checkoutLatency', metricName: 'TargetResponseTime' })],
      [ev(1, true), ev(1, true, { metricId: 'checkoutLatency', metricName: 'TargetResponseTime' })],
    ]);
    expect(r.opened).toHaveLength(1);
    expect(r.opened[0]?.map((s) => s.metricId).sort()).toEqual(['checkout5xx', 'checkoutLatency']);
  });

  it('different services open different incidents', () => {
    const r = play([
      [ev(0, true), ev(0, true, { service: 'search', metricId: 'search5xx' })],
      [ev(1, true), ev(1, true, { service: 'search', metricId: 'search5xx' })],
    ]);
    expect(r.opened.map((s) => s[0]?.metricId).sort()).toEqual(['checkout5xx', 'search5xx']);
  });

  it('a later anomaly of the same service within the group interval updates the open incident (a new signal joins it)', () => {
    const r = groupEvents([open()], [ev(6, true, { metricId: 'checkoutLatency', metricName: 'TargetResponseTime' })], cfg);
    expect(r.newSignals.size).toBe(0);
    expect(r.updated).toHaveLength(1);
    expect(r.updated[0]?.signals.map((s) => s.metricId)).toEqual(['checkout5xx', 'checkoutLatency']);
  });

  it('a further anomalous point of the same metric extends its signal and keeps the peak', () => {
    const r = groupEvents([open()], [ev(3, true, { value: 80, score: 0.99 }), ev(4, true, { value: 60, score: 0.95 })], cfg);
    const s = r.updated[0]?.signals[0];
    expect(s).toMatchObject({ lastAnomalousAt: at(4), peakValue: 80, peakScore: 0.99 });
    expect(r.updated[0]?.signals).toHaveLength(1);
  });

  it("an anomalous point the other way keeps an up signal going but is not its peak (no 'up peak 73 vs 75')", () => {
    const r = groupEvents([open()], [ev(3, true, { direction: 'down', value: 2, score: 0.99 })], cfg);
    const s = r.updated[0]?.signals[0];
    expect(s).toMatchObject({ direction: 'up', lastAnomalousAt: at(3), peakValue: 50, peakScore: 0.9, expected: 10 });
  });

  it('the input incidents are not mutated (pure)', () => {
    const inc = open();
    const before = structuredClone(inc);
    groupEvents([inc], [ev(3, true), ev(10, false)], cfg);
    expect(inc).toEqual(before);
  });

  it('after the group interval with every signal cleared, a new anomaly opens a new incident', () => {
    const quiet = open([signal({ clearedAt: at(8), lastAnomalousAt: at(2) })]);
    const r = play([[ev(30, true)], [ev(31, true)]], [quiet]);
    expect(r.opened).toHaveLength(1);
    expect(r.incidents.find((i) => i.id === 'checkout-1')?.signals).toHaveLength(1);
  });

  it('hysteresis: a healthy point clears a signal only after clear_after without an anomaly', () => {
    const early = groupEvents([open()], [ev(3, false)], cfg);
    expect(early.updated).toEqual([]);
    const late = groupEvents([open()], [ev(6, false)], cfg);
    expect(late.updated[0]?.signals[0]?.clearedAt).toBe(at(6));
  });

  it('a metric still far from its old level is not cleared, even if the detector calls it normal', () => {
    const r = groupEvents([open()], [ev(8, false, { value: 40 })], cfg);
    expect(r.updated[0]?.signals[0]).toMatchObject({ clearedAt: null, lastAnomalousAt: at(8) });
  });

  it('flapping: anomalies that come and go within the interval stay one incident, not one per flap', () => {
    const cycles: MetricEvent[][] = [];
    for (let m = 0; m < 40; m++) cycles.push([ev(m, m % 4 < 2)]);
    const r = play(cycles);
    expect(r.opened).toHaveLength(1);
    expect(r.incidents).toHaveLength(1);
  });

  it('incidents that ended without a fix keep their problem while a signal is active (no reopen every poll)', () => {
    const ended = open([signal()], { state: 'expired' });
    const r = groupEvents([ended], [ev(30, true), ev(31, true)], cfg);
    expect(r.newSignals.size).toBe(0);
    expect(r.updated[0]?.id).toBe('checkout-1');
  });

  it('a resolved incident takes nothing: the same metric breaking again is a new incident', () => {
    const resolved = open([signal()], { state: 'resolved' });
    const r = play([[ev(30, true)], [ev(31, true)]], [resolved]);
    expect(r.opened).toHaveLength(1);
  });

  it('a pending signal whose metric went quiet for clear_after is forgotten', () => {
    const r = groupEvents([], [ev(0, true)], cfg);
    const later = groupEvents([], [ev(10, true, { metricId: 'other', service: 'search' })], cfg, r.pending);
    expect(later.pending.map((p) => p.signal.metricId)).toEqual(['other']);
  });
});

describe('stillDeviating and allCleared', () => {
  it('more than 30 % of the peak excursion left is still deviating', () => {
    const s = signal();
    expect(stillDeviating(s, 23)).toBe(true);
    expect(stillDeviating(s, 21)).toBe(false);
    expect(stillDeviating(signal({ expected: Number.NaN }), 50)).toBe(false);
  });

  it('allCleared needs at least one signal and every one cleared', () => {
    expect(allCleared(open([]))).toBe(false);
    expect(allCleared(open([signal({ clearedAt: at(9) }), signal({ metricId: 'b' })]))).toBe(false);
    expect(allCleared(open([signal({ clearedAt: at(9) }), signal({ metricId: 'b', clearedAt: at(9) })]))).toBe(true);
  });
});
