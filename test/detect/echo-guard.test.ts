import { describe, expect, it } from 'vitest';
import { blipJudged, isEcho, pointJudged, type EchoState } from '../../src/detect/echo-guard.js';
import { DEFAULT_NOVELTY } from '../../src/detect/novelty-core.js';
import { replaySeries } from '../../src/nab/daemon-replay.js';
import { rng } from '../../src/nab/synthetic.js';
import { BaselineSeries } from '../../src/cloud/sim/series.js';
import type { Scenario } from '../../src/cloud/sim/scenario.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2);
const P = { ...DEFAULT_NOVELTY, spikeShort: 10 };

/** A flat one-minute metric around 75 (sd 1.5) for `days` days; `at` overrides single minutes. */
function flat(days: number, seed: number, at: (i: number, v: number) => number): { ts: number[]; vs: number[] } {
  const r = rng(seed);
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < days * 1440; i++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    ts.push(T0 + i * MIN);
    vs.push(at(i, 75 + 1.5 * g));
  }
  return { ts, vs };
}

describe('echo guard: the points after a judged one-point spike do not alarm on its memory (echo-guard.ts)', () => {
  it('a lone spike sets the guard; points within the clip after it are echoes for the spike span, then not', () => {
    const st: EchoState = { core: { n: 100 } };
    pointJudged(st, 14, false, P);
    for (let k = 1; k <= 10; k++) {
      st.core.n = 100 + k;
      expect(isEcho(st, 0.6, P)).toBe(true);
      expect(isEcho(st, -2.9, P)).toBe(true);
      expect(isEcho(st, 3.1, P)).toBe(false); // off the level itself: judged on its own
      pointJudged(st, 0.6, false, P);
    }
    st.core.n = 111;
    expect(isEcho(st, 0.6, P)).toBe(false);
  });

  it('a spike that alarmed does not set the guard, unless its alarm is resolved as a blip', () => {
    const st: EchoState = { core: { n: 100 } };
    pointJudged(st, 14, true, P);
    st.core.n = 101;
    expect(isEcho(st, 0.5, P)).toBe(false);
    blipJudged(st);
    expect(isEcho(st, 0.5, P)).toBe(true);
  });

  it('two off-level points on the same side are a run, not a lone spike: no guard, and a blip after the run sets none', () => {
    const st: EchoState = { core: { n: 100 } };
    pointJudged(st, 15, false, P);
    st.core.n = 101;
    pointJudged(st, 6, true, P);
    st.core.n = 102;
    blipJudged(st);
    expect(isEcho(st, 0.3, P)).toBe(false);
    // Opposite sides are two lone points, not a run.
    const s2: EchoState = { core: { n: 100 } };
    pointJudged(s2, 15, false, P);
    s2.core.n = 101;
    pointJudged(s2, -15, false, P);
    s2.core.n = 102;
    expect(isEcho(s2, 0.3, P)).toBe(true);
  });

  it('after a spike, a real shift still alarms and opens an incident', () => {
    const d = 8 * 1440 + 17;
    const { ts, vs } = flat(9, 5, (i, v) => (i === d ? 96 : i >= d + 3 && i < d + 33 ? v + 12 : i % 211 === 0 ? v + 21 : v));
    const r = replaySeries(ts, vs, MIN, []);
    expect(r.incidents.some((x) => x.onset >= T0 + (d + 3) * MIN && x.onset <= T0 + (d + 10) * MIN)).toBe(true);
  });

  it('a two-point excursion still opens an incident (its second point alarms; the spike before it is part of the run)', () => {
    const d = 8 * 1440 + 17;
    const { ts, vs } = flat(9, 5, (i, v) => (i === d ? 110 : i === d + 1 ? 95 : v));
    const r = replaySeries(ts, vs, MIN, []);
    expect(r.incidents.some((x) => x.onset >= T0 + d * MIN && x.onset <= T0 + (d + 3) * MIN)).toBe(true);
  });

  it('a bench:noise metric (flat, harmless spikes) that opened an incident of ordinary points after two spikes opens nothing', () => {
    // svc008/m5 of `npm run bench:noise` (seed 7): level 75, noise 1.5, spikes on 0.5 % of minutes, 17 days from history.
    const spec = { baseline: { level: 75, noise: 1.5, daily: 0, weekly: 0, spikes: 0.005, min: -Infinity } };
    const b = new BaselineSeries({ seed: 7, dir: '.' } as unknown as Scenario, 'svc008', 'm5', spec as unknown as ConstructorParameters<typeof BaselineSeries>[3]);
    const start = Date.parse('2026-11-02T08:00:00Z');
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = -2 * 1440; i < 15 * 1440; i++) {
      ts.push(start + i * MIN);
      vs.push(b.valueAt(start + i * MIN, i));
    }
    // Before the guard: one incident at 2026-11-14T20:55 (spikes 95.8 and 94.0 two minutes apart, then alarms on the
    // ordinary points after them).
    expect(replaySeries(ts, vs, MIN, []).incidents).toEqual([]);
  });
});
