import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detect/config.js';
import { epochMs } from '../../src/core/time.js';
import { replaySeries } from '../../src/nab/daemon-replay.js';
import { rng } from '../../src/nab/synthetic.js';
import { DAY, falseIncidents, HOUR, series, T0 } from '../helpers/daemon-series.js';

const weekday = (t: number): boolean => Math.floor(t / DAY) % 7 < 5; // T0 is a Monday
/** Office-hours traffic: a smooth peak of +lift from 08:00 to 18:00 on weekdays, quiet weekends, ±3 noise around 100. */
const office = (lift: (t: number) => number) => (t: number, r: () => number): number => {
  const h = (t % DAY) / HOUR;
  const peak = weekday(t) && h >= 8 && h < 18 ? lift(t) * Math.sin((Math.PI * (h - 8)) / 10) : 0;
  return 100 + peak + (r() - 0.5) * 6;
};

describe('incident rules through the daemon path (detector, minimum duration, grouping)', () => {
  it('a weekly pattern seen last week opens nothing: Monday office hours after a quiet weekend, at 1 and 5 minutes', () => {
    for (const periodMs of [60_000, 300_000]) {
      const { ts, vs } = series(periodMs, 22, office(() => 60));
      expect(replaySeries(ts, vs, periodMs, []).incidents, `${periodMs / 60_000}-minute series`).toEqual([]);
    }
  });

  it('the same Monday peak clearly above every weekday of the last week does open, once', () => {
    const mondayAt = 15 * DAY; // the third Monday
    const lift = (t: number): number => (t >= mondayAt && t < mondayAt + DAY ? 160 : 60);
    const { ts, vs } = series(300_000, 22, office(lift));
    const rep = replaySeries(ts, vs, 300_000, [{ start: T0 + mondayAt + 8 * HOUR, end: T0 + mondayAt + 18 * HOUR }]);
    expect(rep.windowsHit).toBe(1);
    expect(falseIncidents(rep)).toEqual([]);
  });

  it('a sustained shift opens one incident, not one a day', () => {
    const at = 6 * DAY + 13 * HOUR;
    const { ts, vs } = series(300_000, 20, (t, r) => 100 + (t >= at ? 30 : 0) + (r() - 0.5) * 6);
    const rep = replaySeries(ts, vs, 300_000, []);
    expect(rep.incidents.length).toBe(1);
    expect(rep.incidents[0]!.onset).toBeGreaterThanOrEqual(T0 + at);
    expect(rep.incidents[0]!.onset).toBeLessThan(T0 + at + HOUR);
  });

  it('a real 20-minute burst on top of the weekly pattern still opens at the default sensitivity', () => {
    const burstAt = 16 * DAY + 11 * HOUR; // Tuesday of the third week, at the peak
    const { ts, vs } = series(60_000, 20, (t, r) => office(() => 60)(t, r) + (t >= burstAt && t < burstAt + 20 * 60_000 ? 120 : 0));
    const rep = replaySeries(ts, vs, 60_000, [{ start: T0 + burstAt, end: T0 + burstAt + HOUR }]);
    expect(rep.windowsHit).toBe(1);
    expect(falseIncidents(rep)).toEqual([]);
  });

  it('a high score on a point the gate rejects does not mute the real excursion that follows', () => {
    // Five-minute data around 50 with a normal hour of 95s every night (a batch job, 03:00–04:00). On day 12 an hour of
    // 90 at 05:00 scores high but lies within the range of the day and of that time of day (rejected); at 07:30 a real
    // hour at 140 must still alarm.
    const P = 300_000;
    const at = 288 * 12 + 60;
    const real = at + 30;
    const det = createDetector({}, P);
    const st = det.init();
    const r = rng(3);
    const verdicts = [];
    for (let i = 0; i < real + 12; i++) {
      const batch = i % 288 >= 36 && i % 288 < 48;
      const v = i >= real ? 140 : i >= at && i < at + 12 ? 90 : (batch ? 95 : 50) + (r() - 0.5) * 4;
      verdicts.push(det.update(st, epochMs(T0 + i * P), v));
    }
    const rejected = verdicts.slice(at, at + 12);
    expect(Math.max(...rejected.map((v) => v.score))).toBe(1); // scored as high as a score goes …
    expect(rejected.some((v) => v.anomalous)).toBe(false); // … and not an incident
    expect(verdicts[real]!.anomalous).toBe(true);
    expect(verdicts[real]!.direction).toBe('up');
  });
});
