import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/cloud/sim/scenario.js';
import { weekendDip } from '../../src/cloud/sim/series.js';
import { SimCloud } from '../../src/cloud/sim/sim-cloud.js';
import { SimStateFile } from '../../src/cloud/sim/sim-state.js';
import { ManualClock } from '../../src/core/clock.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import type { MetricQuery } from '../../src/cloud/ports.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;
const signal = new AbortController().signal;

const BASE = `
name: rollout
start: 2026-11-02T08:00:00Z
history: 2h
seed: 3
services:
  checkout:
    metrics:
      Errors: { baseline: { level: 10, noise: 0 } }
    logs:
      - { every: 10s, message: "GET /cart 200 in 20ms" }
      - { every: 30s, message: "heartbeat ok" }
`;

function cloud(extra: string, now: number): SimCloud {
  return new SimCloud(parseScenario(BASE + extra, 'rollout.yaml'), new ManualClock(now), new SimStateFile(null));
}
const q: MetricQuery = { id: 'e', service: 'checkout', namespace: 'Sim', metricName: 'Errors', dimensions: {}, stat: 'Sum', periodSec: 60 };
const valueAt = async (c: SimCloud, min: number): Promise<number | undefined> => (await c.fetch([q], { start: at(min), end: at(min + 1) }, signal))[0]?.points[0]?.v;

const CANARY = `
deployments:
  - id: d1
    pipeline: checkout-deploy
    service: checkout
    revision: { id: abc }
    stages:
      - { name: Canary, at: 5m, share: 0.1 }
      - { name: Full, at: 20m, share: 1 }
    effects:
      - { metric: Errors, value: 50 }
`;

describe('simulated cloud: history, rollouts, rollbacks, silences', () => {
  it('serves no datapoint before the scenario\'s history', async () => {
    const c = cloud('', at(30));
    const [s] = await c.fetch([q], { start: at(-300), end: at(0) }, signal);
    expect(s?.points[0]?.t).toBe(at(-120));
    expect(s?.points.length).toBe(120);
  });

  it('a canary\'s effect reaches only its share of traffic, then all of it after the full stage', async () => {
    const c = cloud(CANARY, at(40));
    expect(await valueAt(c, 4)).toBe(10);
    expect(await valueAt(c, 6)).toBe(15);
    expect(await valueAt(c, 21)).toBe(60);
  });

  it('a rollout in progress is listed InProgress with the stages started so far', async () => {
    const c = cloud(CANARY, at(10));
    const [d] = await c.list(['checkout-deploy'], { start: at(-60), end: at(10) }, signal);
    expect(d?.status).toBe('InProgress');
    expect(d?.deployEndedAt).toBeUndefined();
    expect(d?.stages).toEqual([{ name: 'Canary', startedAt: at(2), endedAt: at(5), share: 0.1 }]);
    const [done] = await cloud(CANARY, at(30)).list(['checkout-deploy'], { start: at(-60), end: at(30) }, signal);
    expect(done?.status).toBe('Succeeded');
    expect(done?.deployEndedAt).toBe(at(20));
    expect(done?.stages?.map((s) => s.name)).toEqual(['Canary', 'Full']);
  });

  it('a rollback execution of the scenario ends the effects of what it rolls back, and can have effects of its own', async () => {
    const c = cloud(`
deployments:
  - { id: bad, pipeline: checkout-deploy, service: checkout, at: 5m, revision: { id: a }, effects: [{ metric: Errors, value: 50, recovery: 0s }] }
  - { id: rb, pipeline: checkout-deploy, service: checkout, at: 15m, rollbackOf: bad, revision: { id: b }, effects: [{ metric: Errors, value: 5, delay: 5m }] }
`, at(40));
    expect(await valueAt(c, 10)).toBe(60);
    expect(await valueAt(c, 16)).toBe(10);
    expect(await valueAt(c, 21)).toBe(15);
    const list = await c.list(['checkout-deploy'], { start: at(-60), end: at(40) }, signal);
    expect(list.find((d) => d.id === 'rb')?.rollbackOf).toBe('bad');
  });

  it('a silence stops the matching baseline log lines while its cause lasts (a crash loop silences the 200s)', async () => {
    const c = cloud(`
events:
  - { name: crash, at: 10m, until: 20m, silences: [{ service: checkout, match: " 200 " }], logs: [{ service: checkout, every: 20s, message: "ERROR exited with code 137" }] }
`, at(30));
    const lines = await c.logSource.fetch({ groups: ['/ecs/checkout'], range: { start: at(0), end: at(30) }, limit: 10_000 }, signal);
    const during = lines.filter((l) => l.t >= at(10) && l.t < at(20));
    expect(during.some((l) => l.message.includes(' 200 '))).toBe(false);
    expect(during.some((l) => l.message.includes('heartbeat'))).toBe(true);
    expect(during.some((l) => l.message.includes('code 137'))).toBe(true);
    expect(lines.some((l) => l.t >= at(20) && l.message.includes(' 200 '))).toBe(true);
  });

  it('the weekend dip is 0 on weekdays, 1 on Saturday and Sunday, with ramps at its edges', () => {
    expect(weekendDip(Date.parse('2026-11-04T12:00:00Z'))).toBe(0);
    expect(weekendDip(Date.parse('2026-11-07T12:00:00Z'))).toBe(1);
    expect(weekendDip(Date.parse('2026-11-07T03:00:00Z'))).toBeCloseTo(0.5);
    expect(weekendDip(Date.parse('2026-11-08T21:00:00Z'))).toBeCloseTo(0.5);
  });

  it('bad rollout definitions get clear errors', () => {
    const both = `
deployments:
  - { id: d, pipeline: p, service: checkout, at: 5m, stages: [{ name: C, at: 5m, share: 0.1 }], revision: { id: a } }
`;
    expect(() => parseScenario(BASE + both, 's.yaml')).toThrow('s.yaml: deployment d: give exactly one of at or stages');
    const stage = `
deployments:
  - { id: d, pipeline: p, service: checkout, stages: [{ name: C, at: 5m, share: 0.1 }], revision: { id: a }, effects: [{ metric: Errors, value: 1, stage: Full }] }
`;
    expect(() => parseScenario(BASE + stage, 's.yaml')).toThrow('s.yaml: deployment d: unknown stage "Full"');
    const rb = `
deployments:
  - { id: d, pipeline: p, service: checkout, at: 5m, rollbackOf: nope, revision: { id: a } }
`;
    expect(() => parseScenario(BASE + rb, 's.yaml')).toThrow('s.yaml: deployment d: rollbackOf names unknown deployment "nope"');
  });
});
