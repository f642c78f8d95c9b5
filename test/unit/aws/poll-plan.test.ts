import { describe, expect, it } from 'vitest';
import { compilePollSettings, DEFAULT_POLL_SETTINGS, markSuspicious, phaseOf, planPoll, recordFetch, type PollState } from '../../../src/cloud/poll-plan.js';
import type { MetricQuery, MetricSeries } from '../../../src/cloud/ports.js';
import type { EpochMs } from '../../../src/core/time.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const s = DEFAULT_POLL_SETTINGS;
const m = (id: string, extra: Partial<MetricQuery> = {}): MetricQuery => ({ id, service: 'api', namespace: 'N', metricName: id, dimensions: {}, stat: 'Sum', periodSec: 60, ...extra });
const at = (min: number): EpochMs => (T0 + min * MIN) as EpochMs;
const full = (call: { queries: readonly MetricQuery[]; range: { start: number; end: number } }): MetricSeries[] =>
  call.queries.map((q) => ({ id: q.id, points: Array.from({ length: (call.range.end - call.range.start) / MIN }, (_, i) => ({ t: (call.range.start + i * MIN) as EpochMs, v: 1 })) }));

/** Runs the planner for `minutes` cycles with every series complete; returns per-metric request counts. */
function simulate(metrics: MetricQuery[], minutes: number, hot: (id: string, min: number) => boolean = () => false) {
  let state: PollState = {};
  const requests = new Map<string, number[]>();
  const calls: number[] = [];
  for (let k = 0; k < minutes; k++) {
    const now = at(k);
    const plan = planPoll(metrics, state, now, s);
    calls.push(plan.calls.length);
    for (const call of plan.calls) {
      for (const q of call.queries) requests.set(q.id, [...(requests.get(q.id) ?? []), k]);
      state = recordFetch(state, call, full(call), s);
    }
    state = markSuspicious(state, metrics.filter((x) => hot(x.id, k)).map((x) => x.id), now, s);
  }
  return { requests, calls, state };
}

describe('planPoll', () => {
  it('fetches a new metric at once with the initial lookback', () => {
    const plan = planPoll([m('a')], {}, at(0), s);
    expect(plan.calls).toHaveLength(1);
    expect(plan.calls[0]!.range).toEqual({ start: at(-60), end: at(0) });
    expect(plan.reasons).toEqual({ a: 'first' });
  });

  it('reads a quiet 5-minute metric in the cycle right after each 5-minute bucket closes', () => {
    // T0 is on a 5-minute boundary; after the first fetch the metric is read at minutes 1, 6, 11, ...
    const { requests } = simulate([m('five', { periodSec: 300 }), m('fiveB', { periodSec: 300 })], 30);
    for (const id of ['five', 'fiveB']) {
      const later = (requests.get(id) ?? []).filter((k) => k > 0);
      expect(later.length).toBeGreaterThan(3);
      expect(later.every((k) => k % 5 === 1)).toBe(true);
    }
  });

  it('polls a quiet metric once every 5 minutes with 5 datapoints, spread by phase', () => {
    const metrics = Array.from({ length: 1000 }, (_, i) => m(`m${i}`));
    const { requests, calls } = simulate(metrics, 60);
    for (const ks of requests.values()) {
      const gaps = ks.slice(2).map((k, i) => k - ks[i + 1]!);
      expect(new Set(gaps)).toEqual(new Set([5]));
    }
    // After the first cycle, each cycle asks for about a fifth of the metrics: one call.
    expect(Math.max(...calls.slice(1))).toBe(1);
    const perPhase = [0, 1, 2, 3, 4].map((p) => metrics.filter((x) => phaseOf(x.id, 5) === p).length);
    expect(Math.min(...perPhase)).toBeGreaterThan(150);
  });

  it('polls a suspicious metric every minute until the hold ends, then goes back to quiet', () => {
    const { requests } = simulate([m('a')], 40, (_id, k) => k === 10);
    const ks = requests.get('a')!;
    for (let k = 11; k <= 25; k++) expect(ks).toContain(k);
    expect(ks.filter((k) => k > 26).length).toBeLessThanOrEqual(3);
  });

  it('sees a datapoint at most 5 minutes after its minute began (worst-case detection latency)', () => {
    const metrics = Array.from({ length: 50 }, (_, i) => m(`x${i}`));
    const { requests } = simulate(metrics, 60);
    // The datapoint of minute b is complete at b+1 and seen at the first poll at or after b+1.
    let worst = 0;
    for (const ks of requests.values()) for (let b = 10; b < 50; b++) worst = Math.max(worst, ks.find((k) => k >= b + 1)! - b);
    expect(worst).toBe(5);
  });

  it('keeps an expression with the metrics it references, even when they are not due', () => {
    const metrics = [m('errs'), m('reqs'), m('rate', { expression: 'errs / reqs' })];
    const state: PollState = { errs: { fetchedUntil: at(-1) }, reqs: { fetchedUntil: at(-1) }, rate: { fetchedUntil: at(-1), hotUntil: at(10) } };
    const plan = planPoll(metrics, state, at(0), s);
    expect(plan.calls[0]!.queries.map((q) => q.id).sort()).toEqual(['errs', 'rate', 'reqs']);
    expect(plan.reasons).toMatchObject({ rate: 'hot' });
  });

  it('packs at most 500 queries and 100,800 datapoints per call', () => {
    const many = Array.from({ length: 1234 }, (_, i) => m(`m${i}`));
    const plan = planPoll(many, {}, at(0), s);
    expect(plan.calls.map((c) => c.queries.length)).toEqual([500, 500, 234]);
    const hires = Array.from({ length: 400 }, (_, i) => m(`h${i}`, { periodSec: 1 }));
    const p2 = planPoll(hires, {}, at(0), compilePollSettings({ initialLookbackMs: 5 * MIN }));
    for (const c of p2.calls) expect(c.queries.length * 300).toBeLessThanOrEqual(100_800);
  });

  it('asks again for missing datapoints younger than settleMs, and commits older gaps', () => {
    const call = { range: { start: at(-5), end: at(0) }, queries: [m('a')], since: { a: at(-5) } };
    const late = recordFetch({}, call, [{ id: 'a', points: [{ t: at(-5), v: 1 }, { t: at(-4), v: 1 }] }], s);
    expect(late.a!.fetchedUntil).toBe(at(-3)); // the last two minutes may still arrive: read again
    const sparse = recordFetch({}, call, [{ id: 'a', points: [] }], s);
    expect(sparse.a!.fetchedUntil).toBe(at(-3)); // older than settle: a real gap
    const complete = recordFetch({}, call, [{ id: 'a', points: [{ t: at(-1), v: 1 }] }], s);
    expect(complete.a!.fetchedUntil).toBe(at(0));
  });

  it('catches up after a missed slot instead of waiting for the next one', () => {
    const plan = planPoll([m('a')], { a: { fetchedUntil: at(-20) } }, at(0), s);
    expect(plan.reasons.a).toBe(phaseOf('a', 5) === 0 ? 'slot' : 'catch-up');
    expect(plan.calls[0]!.range.start).toBe(at(-20));
  });

  it('rejects contradictory settings with the field named', () => {
    expect(() => compilePollSettings({ quietEveryMs: 90_000 })).toThrow(/quietEveryMs: expected a whole multiple/);
  });
});
