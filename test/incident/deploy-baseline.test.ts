import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentSource } from '../../src/cloud/ports.js';
import { addMs, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { StreamingDetector } from '../../src/detect/detector.js';
import type { MetricEvent } from '../../src/incident/grouping.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import { DEPLOY_SETTLE_MS, deployFreezes, freezeReason, observe } from '../../src/pipeline/observe.js';
import { simHarness } from '../helpers/sim-harness.js';

const SCENARIO = 'test/fixtures/scenarios/e2e/regression-persists-after-deploy.yaml';
const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;

describe('deployment windows (pure)', () => {
  const pipelines = new Map([['checkout-deploy', ['checkout']]]);
  const d: Deployment = { id: 'd1', pipeline: 'checkout-deploy', status: 'Succeeded', startedAt: at(-10), deployStartedAt: at(-4), deployEndedAt: at(-1), endedAt: at(0) };

  it('run from the deploy stage start to the settle time after its end, for the pipeline\'s services', () => {
    const f = deployFreezes([d], pipelines, at(0));
    expect(f).toEqual([{ service: 'checkout', from: at(-4), to: at(-1) + DEPLOY_SETTLE_MS, why: 'deploy d1 of checkout-deploy' }]);
    expect(freezeReason(f, 'checkout', at(-5))).toBeNull();
    expect(freezeReason(f, 'checkout', at(-4))).toBe('deploy d1 of checkout-deploy');
    expect(freezeReason(f, 'checkout', at(-1) + DEPLOY_SETTLE_MS - 1)).toBe('deploy d1 of checkout-deploy');
    expect(freezeReason(f, 'checkout', at(-1) + DEPLOY_SETTLE_MS)).toBeNull();
    expect(freezeReason(f, 'payments', at(0))).toBeNull();
  });

  it('a deployment still running is open until settle time after now; unknown pipelines freeze nothing', () => {
    const running: Deployment = { id: 'r', pipeline: 'checkout-deploy', status: 'InProgress', startedAt: at(-3) };
    expect(deployFreezes([running], pipelines, at(0))).toEqual([{ service: 'checkout', from: at(-3), to: at(0) + DEPLOY_SETTLE_MS, why: 'deploy r of checkout-deploy' }]);
    expect(deployFreezes([{ ...d, pipeline: 'other' }], pipelines, at(0))).toEqual([]);
  });
});

describe('deployment-aware baselines on the simulated cloud', () => {
  /**
   * A detector that learns every point it is given (mean and deviation of the last 10 values), so
   * absorbing a regression is quick to show: the opposite of the policy detector's caution.
   */
  const learnsEverything: StreamingDetector<{ values: number[] }> = {
    name: 'learns-everything',
    init: () => ({ values: [] }),
    update(state, _t, value) {
      if (value === null) return { score: 0, anomalous: false, direction: null, expected: Number.NaN };
      const n = state.values.length;
      const mean = state.values.reduce((a, b) => a + b, 0) / Math.max(1, n);
      const sd = Math.sqrt(state.values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n)) || 1;
      const z = (value - mean) / sd;
      state.values = [...state.values, value].slice(-10);
      const anomalous = n >= 10 && z > 4;
      return { score: Math.min(1, Math.abs(z) / 8), anomalous, direction: anomalous ? 'up' : null, expected: mean };
    },
  };
  const fastLearner = { detectorFor: () => learnsEverything as StreamingDetector };

  async function play(deployments: (real: DeploymentSource) => DeploymentSource, minutes = 25) {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO }));
    let calls = 0;
    const source = deployments(h.deps.deployments);
    const deps: PipelineDeps = { ...h.deps, ...fastLearner, deployments: { list: (p, r, s) => (calls++, source.list(p, r, s)) } };
    const events: MetricEvent[] = [];
    for (let i = 0; i < minutes; i++) {
      h.clock.advance(MINUTE);
      events.push(...(await observe(deps, { now: h.clock.now(), deadline: addMs(h.clock.now(), 60_000), signal: new AbortController().signal })));
    }
    const errors = events.filter((e) => e.metricId === 'checkout5xx' && e.t >= at(5));
    return { errors, calls, cycles: minutes };
  }

  it('a regression that starts at a deploy and persists is still flagged when the window ends: the baseline did not absorb it', async () => {
    const { errors, calls, cycles } = await play((real) => real);
    const inWindow = errors.filter((e) => e.t < at(5) + DEPLOY_SETTLE_MS);
    expect(inWindow.length).toBe(15);
    expect(inWindow.every((e) => e.baselineFrozen === 'deploy 11111111-aaaa-4a39-9c61-0d5e2f1a0001 of checkout-deploy')).toBe(true);
    expect(inWindow[0]?.anomalous).toBe(true);
    // This detector learns everything it scores, so the window's shadow state has learned the regression by now...
    expect(inWindow.some((e) => !e.anomalous)).toBe(true);
    // ...but the baseline learned none of it: the points after the window are anomalous again.
    const after = errors.find((e) => e.t >= at(5) + DEPLOY_SETTLE_MS);
    expect(after).toMatchObject({ anomalous: true });
    expect(after?.baselineFrozen).toBeUndefined();
    // One list call per cycle, plus one for the warm start's deploy windows, no more.
    expect(calls).toBe(cycles + 1);
  });

  it('frozen points are scored in sequence on one shadow of the baseline, so evidence builds up over the window', async () => {
    // A detector whose verdict is the number of points its state has seen: on a fresh copy per point (as before),
    // every frozen point would see the same count and a rise would have to be proved by each point alone.
    const counts: { t: number; seen: number; frozen: boolean }[] = [];
    const counting: StreamingDetector<{ seen: number }> = {
      name: 'counting',
      init: () => ({ seen: 0 }),
      update(state, t, value) {
        state.seen += 1;
        if (value !== null) counts.push({ t, seen: state.seen, frozen: false });
        return { score: 0, anomalous: false, direction: null, expected: Number.NaN };
      },
    };
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO, metrics: p.metrics.filter((m) => m.id === 'checkout5xx') }));
    const deps: PipelineDeps = { ...h.deps, detectorFor: () => counting };
    const events: MetricEvent[] = [];
    for (let i = 0; i < 25; i++) {
      h.clock.advance(MINUTE);
      events.push(...(await observe(deps, { now: h.clock.now(), deadline: addMs(h.clock.now(), 60_000), signal: new AbortController().signal })));
    }
    const frozenAt = new Set(events.filter((e) => e.baselineFrozen !== undefined).map((e) => e.t as number));
    const inWindow = counts.filter((c) => frozenAt.has(c.t));
    expect(inWindow.length).toBeGreaterThanOrEqual(15);
    for (let i = 1; i < inWindow.length; i++) expect(inWindow[i]?.seen).toBe((inWindow[0]?.seen ?? 0) + i);
    // After the window the baseline goes on from where it was before it: the frozen points were not learned.
    const firstAfter = counts.find((c) => c.t >= at(5) + DEPLOY_SETTLE_MS);
    expect(firstAfter?.seen).toBe(inWindow[0]?.seen);
  });

  it('without deploy windows the same detector learns the regression as normal within those points', async () => {
    const { errors } = await play(() => ({ list: async () => [] }));
    const run = errors.filter((e) => e.t < at(5) + 12 * MINUTE);
    expect(run.length).toBe(12);
    expect(run.some((e) => !e.anomalous)).toBe(true);
    expect(run.every((e) => e.baselineFrozen === undefined)).toBe(true);
  });

  it('a baseline still warming up learns through deploy windows (it would never warm up otherwise)', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({ ...p, scenarioFile: SCENARIO, metrics: p.metrics.map((m) => ({ ...m, detector: { ...m.detector, warmup: 1000 } })) }));
    const deps: PipelineDeps = { ...h.deps, ...fastLearner };
    const events: MetricEvent[] = [];
    for (let i = 0; i < 10; i++) {
      h.clock.advance(MINUTE);
      events.push(...(await observe(deps, { now: h.clock.now(), deadline: addMs(h.clock.now(), 60_000), signal: new AbortController().signal })));
    }
    expect(events.filter((e) => e.metricId === 'checkout5xx' && e.t >= at(5))).toHaveLength(5);
    expect(events.every((e) => e.baselineFrozen === undefined)).toBe(true);
  });

  it('deployments that cannot be read cost only the windows of that cycle, not the cycle', async () => {
    const { errors } = await play(() => ({ list: async () => { throw new Error('ThrottlingException: Rate exceeded'); } }), 8);
    expect(errors.length).toBe(3);
  });

  it('a maintenance window freezes learning for its services', async () => {
    const h = simHarness('config/demo.yaml', (p) => ({
      ...p,
      scenarioFile: SCENARIO,
      doc: { ...p.doc, maintenance: [{ name: 'db-failover', services: ['checkout'], start: new Date(at(4)).toISOString(), end: new Date(at(30)).toISOString(), reason: 'planned failover' }] },
    }));
    const deps: PipelineDeps = { ...h.deps, ...fastLearner, deployments: { list: async () => [] } };
    const events: MetricEvent[] = [];
    for (let i = 0; i < 8; i++) {
      h.clock.advance(MINUTE);
      events.push(...(await observe(deps, { now: h.clock.now(), deadline: addMs(h.clock.now(), 60_000), signal: new AbortController().signal })));
    }
    expect(events.filter((e) => e.t >= at(4)).map((e) => [e.metricId, e.baselineFrozen])).toEqual(
      expect.arrayContaining([['checkout5xx', 'maintenance db-failover'], ['paymentsCpu', undefined]]),
    );
  });
});
