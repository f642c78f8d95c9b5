import { describe, expect, it } from 'vitest';
import { HYSTERESIS_HOLD_MS, hysteresisUpdate, initHysteresis, pagedRanges } from '../../src/detect/incident-hysteresis.js';
import { replaySeries } from '../../src/nab/daemon-replay.js';
import { DAY, falseIncidents, HOUR, noisy, onsetDays, series as daySeries, T0 } from '../helpers/daemon-series.js';

/** `days` of data every `periodMs` around 100 (±3 noise), plus whatever `extra(t)` adds at time t (ms since T0). */
const series = (periodMs: number, days: number, extra: (t: number) => number) => daySeries(periodMs, days, noisy(extra), 7);

/** Three hours at +lift from 14:00 on the given days. */
const plateaus = (days: readonly number[], lift: (day: number) => number) => (t: number): number => {
  const d = Math.floor(t / DAY);
  const h = (t % DAY) / HOUR;
  return days.includes(d) && h >= 14 && h < 17 ? lift(d) : 0;
};

describe('re-alarm hysteresis: the same excursion is paged once a week, a worse one again', () => {
  it('a shift that comes back every other day opens one incident, not one each time (1 min and 5 min)', () => {
    for (const periodMs of [60_000, 300_000]) {
      const { ts, vs } = series(periodMs, 12, plateaus([4, 6, 8, 10], () => 30));
      const rep = replaySeries(ts, vs, periodMs, []);
      const onsets = onsetDays(rep);
      expect(onsets, `${periodMs / 60_000}-minute series`).toEqual([4]);
    }
  });

  it('an excursion clearly beyond the one already paged opens again', () => {
    const { ts, vs } = series(300_000, 12, plateaus([4, 6, 8], (d) => (d === 8 ? 80 : 30)));
    const onsets = onsetDays(replaySeries(ts, vs, 300_000, []));
    expect(onsets).toEqual([4, 8]);
  });

  it('after two weeks the excursion is forgotten (the hold and the weekly reference): the same shift opens again', () => {
    const { ts, vs } = series(300_000, 22, plateaus([4, 20], () => 30));
    const onsets = onsetDays(replaySeries(ts, vs, 300_000, []));
    expect(onsets).toEqual([4, 20]);
  });

  it('a normal daily peak, seen yesterday, opens nothing; a real 20-minute burst on top of it still opens', () => {
    // A daily peak of +40 around 12:00; the burst comes at 15:00, on its way down.
    const daily = (t: number): number => 40 * Math.max(0, Math.sin((2 * Math.PI * ((t % DAY) - 6 * HOUR)) / DAY));
    const burstAt = 8 * DAY + 15 * HOUR;
    const burst = (t: number): number => (t >= burstAt && t < burstAt + 20 * 60_000 ? 120 : 0);
    const quiet = series(60_000, 10, daily);
    expect(replaySeries(quiet.ts, quiet.vs, 60_000, []).incidents).toEqual([]);
    const hot = series(60_000, 10, (t) => daily(t) + burst(t));
    const rep = replaySeries(hot.ts, hot.vs, 60_000, [{ start: T0 + burstAt, end: T0 + burstAt + HOUR }]);
    expect(rep.windowsHit).toBe(1);
    expect(falseIncidents(rep)).toEqual([]);
  });

  it('follows an excursion from its alarm while it stays material on its side, and only then', () => {
    const st = initHysteresis();
    const t = T0 + 3 * DAY;
    hysteresisUpdate(st, t, 150, 120, null, true, 100); // material but never alarmed: not remembered
    expect(pagedRanges(st, t).x.hi).toBeLessThan(pagedRanges(st, t).x.lo);
    hysteresisUpdate(st, t, 150, 120, 'up', true, 100);
    hysteresisUpdate(st, t + 60_000, 170, 140, null, true, 100);
    hysteresisUpdate(st, t + 120_000, 105, 130, null, false, 100); // back within the recent range: the excursion ends
    hysteresisUpdate(st, t + 180_000, 190, 150, null, true, 100); // not part of it any more
    const p = pagedRanges(st, t + 180_000);
    expect(p.x.lo).toBeLessThanOrEqual(150);
    expect(p.x.hi).toBeGreaterThanOrEqual(170);
    expect(p.x.hi).toBeLessThan(171);
    expect(p.m.hi).toBeLessThan(141);
    expect(st.d).toBe(0);
    expect(pagedRanges(st, t + HYSTERESIS_HOLD_MS).x.hi).toBeGreaterThanOrEqual(170);
    // A week after the excursion's last point nothing is left; the state is plain JSON.
    expect(pagedRanges(st, t + HYSTERESIS_HOLD_MS + 2 * 3_600_000).x.hi).toBeLessThan(pagedRanges(st, t + HYSTERESIS_HOLD_MS + 2 * 3_600_000).x.lo);
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
  });
});
