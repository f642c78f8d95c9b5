import { describe, expect, it } from 'vitest';
import type { Deployment, MetricPoint } from '../../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { correlate, driftSince, MIN_SCORE, type CorrelationInput } from '../../src/incident/correlate.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;

/** A deployment whose deploy stage finished `min` minutes after T. */
function deploy(id: string, pipeline: string, min: number, extra: Partial<Deployment> = {}): Deployment {
  return { id, pipeline, status: 'Succeeded', startedAt: at(min - 10), deployStartedAt: at(min - 3), deployEndedAt: at(min), endedAt: at(min + 1), ...extra };
}

const pipelines = new Map<string, string[]>([
  ['checkout-deploy', ['checkout']],
  ['payments-deploy', ['payments']],
  ['search-deploy', ['search']],
  ['auth-deploy', ['auth']],
]);
const dependsOn = new Map<string, string[]>([['checkout', ['payments']]]);

function input(deployments: Deployment[], extra: Partial<CorrelationInput> = {}): CorrelationInput {
  return { service: 'checkout', onsetAt: at(0), lookbackMs: 6 * 60 * MINUTE, deployments, pipelineServices: pipelines, dependsOn, otherOnsets: [], ...extra };
}

describe('correlate: which deployment broke the service, and why', () => {
  it('names the own-pipeline deploy that finished just before the onset, saying so in plain words', () => {
    const c = correlate(input([deploy('good', 'checkout-deploy', -120), deploy('bad', 'checkout-deploy', -2)]));
    expect(c.suspect?.deployment.id).toBe('bad');
    expect(c.suspect?.reasons).toContain('pipeline checkout-deploy deploys checkout');
    expect(c.suspect?.reasons).toContain('its deploy stage finished 2 min before the onset');
    expect(c.verdict).toMatch(/deployment bad of checkout-deploy is the likely cause/);
  });

  it('points the rollback target at the last successful execution of the same pipeline', () => {
    const c = correlate(input([deploy('older', 'checkout-deploy', -300), deploy('good', 'checkout-deploy', -120), deploy('failed', 'checkout-deploy', -60, { status: 'Failed' }), deploy('bad', 'checkout-deploy', -2)]));
    expect(c.suspect?.previousExecutionId).toBe('good');
  });

  it('the closer the deploy is to the onset, the higher it ranks', () => {
    const c = correlate(input([deploy('far', 'checkout-deploy', -40), deploy('near', 'checkout-deploy', -5)]));
    expect(c.candidates.map((r) => r.deployment.id)).toEqual(['near', 'far']);
    expect(c.candidates[0]?.score).toBeGreaterThan(c.candidates[1]?.score ?? 1);
  });

  it('another service\'s pipeline is not a suspect: the reason says the service does not depend on it', () => {
    const c = correlate(input([deploy('other', 'search-deploy', -1)]));
    expect(c.suspect).toBeNull();
    expect(c.candidates[0]?.score).toBe(0);
    expect(c.candidates[0]?.reasons.at(-1)).toBe('pipeline search-deploy deploys search, which checkout does not depend on');
    expect(c.verdict).toMatch(/^no deployment explains this: nothing deployed checkout or a service it depends on/);
  });

  it('a release of a service it depends on can be the cause, but weighs less than its own', () => {
    const dep = correlate(input([deploy('pay', 'payments-deploy', -1)]));
    expect(dep.suspect?.deployment.id).toBe('pay');
    expect(dep.suspect?.reasons[0]).toBe('pipeline payments-deploy deploys payments, which checkout depends on');
    const both = correlate(input([deploy('pay', 'payments-deploy', -1), deploy('own', 'checkout-deploy', -3)]));
    expect(both.suspect?.deployment.id).toBe('own');
  });

  it('an anomaly that began before the deploy finished was not caused by it', () => {
    const c = correlate(input([deploy('late', 'checkout-deploy', 10)]));
    expect(c.suspect).toBeNull();
    expect(c.candidates[0]?.reasons.at(-1)).toBe('the anomaly began 10 min before this deploy finished, so it did not cause it');
    expect(c.verdict).toMatch(/the closest candidate, late of checkout-deploy, does not fit \(the anomaly began 10 min before/);
  });

  it('a deploy that finished within the two-minute estimation slack after the onset still counts', () => {
    expect(correlate(input([deploy('d', 'checkout-deploy', 1)])).suspect?.deployment.id).toBe('d');
  });

  it('a still-running deploy stage counts at half weight and says it was still running', () => {
    const running = deploy('run', 'checkout-deploy', -1, { status: 'InProgress' });
    const { deployEndedAt: _a, endedAt: _b, ...open } = running;
    const c = correlate(input([open]));
    expect(c.suspect?.deployment.id).toBe('run');
    expect(c.suspect?.reasons).toContain('its deploy stage was still running (started 4 min before the onset)');
    expect(c.suspect?.score).toBeLessThanOrEqual(0.5);
  });

  it('unrelated services breaking at the same moment with no release of their own point at a shared dependency', () => {
    const c = correlate(input([deploy('bad', 'checkout-deploy', -2)], { otherOnsets: [{ service: 'search', onsetAt: at(1) }, { service: 'auth', onsetAt: at(-1) }] }));
    expect(c.suspect).toBeNull();
    expect(c.candidates[0]?.reasons.at(-1)).toBe('auth, search broke at the same moment without a release of their own, which points at a shared dependency rather than this deploy');
  });

  it('another service breaking at the same moment because of its own release does not clear this deploy', () => {
    const c = correlate(input([deploy('bad', 'checkout-deploy', -2), deploy('sbad', 'search-deploy', -1)], { otherOnsets: [{ service: 'search', onsetAt: at(0) }] }));
    expect(c.suspect?.deployment.id).toBe('bad');
  });

  it('a break of another service far from the onset is not "the same moment"', () => {
    const c = correlate(input([deploy('bad', 'checkout-deploy', -2)], { otherOnsets: [{ service: 'search', onsetAt: at(20) }] }));
    expect(c.suspect?.deployment.id).toBe('bad');
  });

  it('a failed or stopped execution is still a suspect: part of the change may be live', () => {
    for (const status of ['Failed', 'Stopped'] as const) {
      const c = correlate(input([deploy('half', 'checkout-deploy', -2, { status })]));
      expect(c.suspect?.deployment.id).toBe('half');
      expect(c.suspect?.reasons).toContain(`the execution ${status.toLowerCase()} after its deploy stage ran, so part of the change may be live`);
    }
  });

  it('a rollback is never the cause, and a deploy already rolled back before the onset is cleared', () => {
    const rb = correlate(input([deploy('rb', 'checkout-deploy', -1, { rollbackOf: 'bad' })]));
    expect(rb.suspect).toBeNull();
    expect(rb.candidates[0]?.reasons.at(-1)).toBe('it is a rollback (of bad), which restores code that ran before');
    const undone = correlate(input([deploy('bad', 'checkout-deploy', -30), deploy('rb', 'checkout-deploy', -10, { rollbackOf: 'bad' })]));
    expect(undone.suspect).toBeNull();
    expect(undone.candidates.find((r) => r.deployment.id === 'bad')?.reasons.at(-1)).toBe('it had already been rolled back (rb) 10 min before the onset');
  });

  it('change size is a reason, and a bigger change ranks a little higher at equal timing', () => {
    const c = correlate(input([deploy('small', 'checkout-deploy', -2, { changeSize: 1 }), deploy('big', 'checkout-deploy', -2, { changeSize: 2000 })]));
    expect(c.suspect?.deployment.id).toBe('big');
    expect(c.suspect?.reasons).toContain('it changed 2000 lines');
    expect(c.candidates[1]?.reasons).toContain('it changed 1 line');
    // A one-line change right before the onset is still named: size only nudges.
    expect(correlate(input([deploy('small', 'checkout-deploy', -2, { changeSize: 1 })])).suspect?.deployment.id).toBe('small');
  });

  it('a deploy long before the onset with no drift since it landed is not named', () => {
    const c = correlate(input([deploy('old', 'checkout-deploy', -180)]));
    expect(c.suspect).toBeNull();
    expect(c.candidates[0]?.reasons).toContain('that is long before the onset, and no metric of checkout started drifting when it landed');
    expect(c.candidates[0]?.score).toBeLessThan(MIN_SCORE);
  });

  it('a deploy long before the onset is named when a metric was flat before it and climbed steadily since (a leak)', () => {
    const points: MetricPoint[] = [];
    for (let m = -300; m < 0; m++) {
      const wobble = ((m * 7919) % 13) / 13 - 0.5;
      points.push({ t: at(m), v: 40 + wobble + (m >= -180 ? (m + 180) * 0.25 : 0) });
    }
    const c = correlate(input([deploy('leak', 'checkout-deploy', -180)], { series: [{ metricName: 'MemoryUtilization', direction: 'up', points }] }));
    expect(c.suspect?.deployment.id).toBe('leak');
    expect(c.suspect?.reasons.join(' ')).toMatch(/MemoryUtilization was flat before this deploy and has climbed steadily since it landed \((39|40)\.\d → 8\d\.\d\), so it surfaced 3\.0 h later/);
  });

  it('no deployments at all: no suspect, and the verdict says nothing was deployed', () => {
    const c = correlate(input([]));
    expect(c).toEqual({ suspect: null, verdict: 'no deployment explains this: nothing deployed checkout or a service it depends on in the 6.0 h before the onset', candidates: [] });
  });

  it('deploys older than the lookback are not considered', () => {
    expect(correlate(input([deploy('ancient', 'checkout-deploy', -400)])).candidates).toEqual([]);
  });

  it('a deploy with no time at all is skipped, not guessed', () => {
    const d: Deployment = { id: 'x', pipeline: 'checkout-deploy', status: 'InProgress', startedAt: at(-1) };
    expect(correlate(input([d])).candidates).toEqual([]);
  });
});

describe('driftSince', () => {
  const flat = (from: number, to: number, v = 10): MetricPoint[] => Array.from({ length: to - from }, (_, i) => ({ t: at(from + i), v: v + (((from + i) * 7919) % 13) / 65 - 0.1 }));

  it('is null when the metric stayed flat after the deploy', () => {
    expect(driftSince([{ metricName: 'm', direction: 'up', points: flat(-120, 0) }], at(-60), at(0))).toBeNull();
  });

  it('is null when the drift goes the harmless way', () => {
    const pts = [...flat(-120, -60), ...Array.from({ length: 60 }, (_, i) => ({ t: at(-60 + i), v: 10 - i * 0.5 }))];
    expect(driftSince([{ metricName: 'm', direction: 'up', points: pts }], at(-60), at(0))).toBeNull();
    expect(driftSince([{ metricName: 'm', direction: 'down', points: pts }], at(-60), at(0))).toMatch(/m was flat before this deploy and has fallen steadily/);
  });

  it('is null with too few points to tell', () => {
    expect(driftSince([{ metricName: 'm', direction: 'up', points: flat(-70, -50) }], at(-60), at(0))).toBeNull();
  });
});
