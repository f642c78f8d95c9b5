import { describe, expect, it } from 'vitest';
import { defaultReplayConfig, describeIncident, falseAlarmBreakdown, replaySeries, summarizeReplays, type SeriesReplay } from '../../src/nab/daemon-replay.js';
import { rng } from '../../src/nab/synthetic.js';

const PERIOD = 300_000;
const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

/** Ten days of five-minute noise around 100, with the points in [from, to) raised by `lift`. */
function series(from = -1, to = -1, lift = 0): { ts: Float64Array; vs: Float64Array } {
  const n = (10 * DAY) / PERIOD;
  const r = rng(5);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * PERIOD;
    vs[i] = 100 + (r() - 0.5) * 4 + (i >= from && i < to ? lift : 0);
  }
  return { ts, vs };
}

describe('replaying series through the daemon path (detector factory, minimum duration, grouping)', () => {
  it('takes the policy defaults: sensitivity 0.5, grouping 5m/5m, approval ttl 15m', () => {
    const c = defaultReplayConfig();
    expect(c.detector.sensitivity).toBe(0.5);
    expect(c.grouping).toEqual({ groupIntervalMs: 300_000, clearAfterMs: 300_000 });
    expect(c.ttlMs).toBe(900_000);
  });

  it('a level shift inside a labeled window is one true incident, none false, the window recalled', () => {
    const { ts, vs } = series(2000, 2100, 30);
    const w = [{ start: T0 + 1900 * PERIOD, end: T0 + 2200 * PERIOD }];
    const r = replaySeries(ts, vs, PERIOD, w);
    expect(r.incidents.filter((i) => i.inWindow).length).toBe(1);
    expect(r.incidents.filter((i) => !i.inWindow)).toEqual([]);
    expect(r.windowsHit).toBe(1);
  });

  it('the same shift with no window is a false incident, and metric-days count only unlabeled time after probation', () => {
    const { ts, vs } = series(2000, 2100, 30);
    const r = replaySeries(ts, vs, PERIOD, []);
    expect(r.incidents.length).toBe(1);
    expect(r.incidents[0]!.inWindow).toBe(false);
    // 10 days, the first 15 % (probationary) not counted.
    expect(r.unlabeledMs / DAY).toBeCloseTo(8.5, 1);
    const s = summarizeReplays([r]);
    expect(s.false_incidents).toBe(1);
    expect(s.false_incidents_per_1000_metric_days).toBeCloseTo(1000 / 8.5, 0);
    expect(Number.isNaN(s.labeled_window_recall)).toBe(true);
  });

  it('describes each incident: direction, peak against expected, alarms inside it, and whether the peak set a record', () => {
    // A sustained shift to 130 (never seen before): several alarms, a new high.
    const up = series(2000, 2100, 30);
    const shift = replaySeries(up.ts, up.vs, PERIOD, []).incidents[0]!;
    expect(shift.direction).toBe('up');
    expect(shift.peakValue).toBeGreaterThan(125);
    expect(shift.expected).toBeLessThan(103);
    expect(shift.newRecord).toBe(true);
    expect(describeIncident(shift)).toContain('new high');
    // The same shift downwards after an earlier, deeper dip: a new low it is not.
    const { ts, vs } = series(2000, 2100, -30);
    for (let i = 1200; i < 1203; i++) vs[i] = 40;
    const dip = replaySeries(ts, vs, PERIOD, []).incidents.find((x) => x.onset >= T0 + 2000 * PERIOD)!;
    expect(dip.direction).toBe('down');
    expect(dip.newRecord).toBe(false);
    expect(describeIncident(dip)).not.toContain('new low');
    // A single alarm whose minimum duration was met only by a still-deviating next point is said so.
    const one = { onset: T0, last: T0 + PERIOD, inWindow: false, direction: 'up' as const, anomalousPoints: 1, peakValue: 7, expected: 2, newRecord: false };
    expect(describeIncident(one)).toBe('one alarm, confirmed by still-deviating points');
    expect(describeIncident({ ...one, anomalousPoints: 3, newRecord: true, direction: 'down' })).toBe('3 alarms; new low');
  });

  it('an anomaly inside the probationary period (the first 15 %) is not counted', () => {
    const { ts, vs } = series(300, 340, 30);
    expect(replaySeries(ts, vs, PERIOD, []).incidents).toEqual([]);
  });

  it('stationary noise opens nothing', () => {
    const { ts, vs } = series();
    expect(replaySeries(ts, vs, PERIOD, []).incidents).toEqual([]);
  });

  it('breaks false incidents down by metric: most first, re-openings, median duration and kind by duration', () => {
    const inc = (onset: number, minutes: number, inWindow = false) => ({ onset, last: onset + minutes * 60_000, inWindow, direction: 'up' as const, anomalousPoints: 2, peakValue: 1, expected: 0, newRecord: false });
    const rep = (incidents: SeriesReplay['incidents']): SeriesReplay => ({ incidents, windowsHit: 0, windows: 0, unlabeledMs: DAY });
    const rows = falseAlarmBreakdown([
      { key: 'a', periodMs: PERIOD, r: rep([inc(T0, 0), inc(T0 + DAY, 30), inc(T0 + 2 * DAY, 90), inc(T0 + 3 * DAY, 600, true)]) },
      { key: 'b', periodMs: PERIOD, r: rep([inc(T0, 120), inc(T0 + DAY, 240)]) },
      { key: 'c', periodMs: PERIOD, r: rep([inc(T0, 10, true)]) },
    ], 5);
    expect(rows).toEqual([
      { key: 'a', false_incidents: 3, reopened: 2, median_minutes: 30, kinds: { point: 1, burst: 1, long: 1 } },
      { key: 'b', false_incidents: 2, reopened: 1, median_minutes: 180, kinds: { point: 0, burst: 0, long: 2 } },
    ]);
    expect(falseAlarmBreakdown([{ key: 'a', periodMs: PERIOD, r: rep([inc(T0, 0)]) }, { key: 'b', periodMs: PERIOD, r: rep([inc(T0, 0)]) }], 1).map((x) => x.key)).toEqual(['a']);
  });
});
