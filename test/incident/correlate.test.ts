import { describe, expect, it } from 'vitest';
import type { Deployment, MetricPoint } from '../../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { correlate, decisiveReason, driftSince, MIN_SCORE, type CorrelationInput } from '../../src/incident/correlate.js';

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

  it('a release of a service it depends on can be the cause when that service is in trouble too, but weighs less than its own', () => {
    const troubled = { otherOnsets: [{ service: 'payments', onsetAt: at(-1) }] };
    const dep = correlate(input([deploy('pay', 'payments-deploy', -1)], troubled));
    expect(dep.suspect?.deployment.id).toBe('pay');
    expect(dep.suspect?.reasons[0]).toBe('pipeline payments-deploy deploys payments, which checkout depends on');
    expect(dep.suspect?.reasons[1]).toBe('payments itself shows trouble: its own anomaly began 1 min before this one');
    const both = correlate(input([deploy('pay', 'payments-deploy', -1), deploy('own', 'checkout-deploy', -3)], troubled));
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
    expect(c.candidates[0]?.reasons.at(-1)).toBe('against it: auth, search broke at the same moment without a release of their own, which points at a shared dependency rather than this deploy');
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

  it('a rollback execution can itself be the cause, and a deploy already rolled back before the onset is cleared', () => {
    const rb = correlate(input([deploy('rb', 'checkout-deploy', -1, { rollbackOf: 'bad' })]));
    expect(rb.suspect?.deployment.id).toBe('rb');
    expect(rb.suspect?.reasons).toContain('it is a rollback (of bad): it put back code that ran before, which can still break what changed since');
    // At equal timing an ordinary release is more suspicious than a rollback.
    const both = correlate(input([deploy('rb', 'checkout-deploy', -1, { rollbackOf: 'bad' }), deploy('new', 'checkout-deploy', -1)]));
    expect(both.suspect?.deployment.id).toBe('new');
    const undone = correlate(input([deploy('bad', 'checkout-deploy', -30), deploy('rb', 'checkout-deploy', -10, { rollbackOf: 'bad' })]));
    // What ran at the onset was the rollback's code, not the release it undid.
    expect(undone.suspect?.deployment.id).toBe('rb');
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
    expect(c.candidates[0]?.reasons).toContain('against it: that is long before the onset, and no metric of checkout started drifting when it landed');
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

describe('correlate: steady-state mechanisms (drift change point, dependency trouble, logs, rollouts)', () => {
  /** Memory flat at 40, climbing 0.25 per minute from `from` (minutes), over 300 minutes before T. */
  const climb = (from: number): MetricPoint[] => {
    const points: MetricPoint[] = [];
    for (let m = -300; m < 0; m++) points.push({ t: at(m), v: 40 + (((m * 7919) % 13) / 13 - 0.5) + (m >= from ? (m - from) * 0.25 : 0) });
    return points;
  };
  const memory = (from: number): Partial<CorrelationInput> => ({ series: [{ metricName: 'MemoryUtilization', direction: 'up', points: climb(from) }] });

  it('drift is blamed on the release where the climb began, not on an older, larger release before it', () => {
    const c = correlate(input([deploy('older-big', 'checkout-deploy', -200, { changeSize: 3000 }), deploy('leak', 'checkout-deploy', -120, { changeSize: 20 })], memory(-120)));
    expect(c.suspect?.deployment.id).toBe('leak');
    const older = c.candidates.find((r) => r.deployment.id === 'older-big');
    expect(older?.reasons).toContain('against it: that is long before the onset, and no metric of checkout started drifting when it landed');
    expect(older?.score).toBeLessThan(MIN_SCORE);
  });

  it('a dependency release is not blamed when the dependency shows no trouble of its own', () => {
    const c = correlate(input([deploy('pay', 'payments-deploy', -1)]));
    expect(c.suspect).toBeNull();
    expect(c.candidates[0]?.reasons.at(-1)).toBe('payments showed no trouble of its own (no anomaly near the onset, no new log lines naming it)');
  });

  const named = { template: 'ERROR cannot parse payments response: missing field <*>', baselineCount: 0, onsetCount: 40, isNew: true, samples: ['ERROR cannot parse payments response: missing field "authCode"'] };

  it('new log lines naming a dependency put its release at the onset ahead of a trivial own release 20 minutes earlier, with the reason shown', () => {
    const c = correlate(input([deploy('own', 'checkout-deploy', -20, { changeSize: 3 }), deploy('pay', 'payments-deploy', -1)], { logTemplates: [named] }));
    expect(c.suspect?.deployment.id).toBe('pay');
    expect(c.suspect?.reasons).toContain('new log lines name payments: "ERROR cannot parse payments response: missing field <*>" (0 → 40)');
    expect(c.candidates.find((r) => r.deployment.id === 'own')?.reasons.join(' ')).toMatch(/the new log lines name payments, which released too/);
  });

  it('a reason that lowered a score says so, and is the one shown beside a deployment that was not named', () => {
    const c = correlate(input([deploy('own', 'checkout-deploy', -20, { changeSize: 3 }), deploy('pay', 'payments-deploy', -1)], { logTemplates: [named] }));
    const own = c.candidates.find((r) => r.deployment.id === 'own');
    expect(own?.score).toBeGreaterThan(0);
    expect(own?.reasons.at(-1)).toBe('it changed 3 lines');
    expect(own && decisiveReason(own)).toMatch(/^against it: the new log lines name payments, which released too, rather than checkout's own code/);
    // Reasons that support a deployment carry no such lead.
    expect(c.suspect?.reasons.some((r) => r.startsWith('against it: '))).toBe(false);
    // A deployment that scored nothing shows why it scored nothing.
    const none = correlate(input([deploy('pay', 'payments-deploy', -1)]));
    expect(none.candidates[0] && decisiveReason(none.candidates[0])).toBe('payments showed no trouble of its own (no anomaly near the onset, no new log lines naming it)');
  });

  it('a brand-new log template after an own release enters its reasons', () => {
    const t = { template: 'ERROR NullPointerException in Cart.handle', baselineCount: 0, onsetCount: 12, isNew: true, samples: [] };
    const c = correlate(input([deploy('own', 'checkout-deploy', -3)], { logTemplates: [t] }));
    expect(c.suspect?.reasons).toContain('a new log template appeared after it landed: "ERROR NullPointerException in Cart.handle" (12 lines)');
  });

  it('a transitive dependency (checkout → payments → auth) is blamed only with trouble on the way, and says the path', () => {
    const deps = new Map<string, string[]>([['checkout', ['payments']], ['payments', ['auth']]]);
    const quiet = correlate(input([deploy('auth', 'auth-deploy', -2)], { dependsOn: deps }));
    expect(quiet.suspect).toBeNull();
    const troubled = correlate(input([deploy('auth', 'auth-deploy', -2)], { dependsOn: deps, otherOnsets: [{ service: 'payments', onsetAt: at(-1) }] }));
    expect(troubled.suspect?.deployment.id).toBe('auth');
    expect(troubled.suspect?.reasons[0]).toBe('pipeline auth-deploy deploys auth, which checkout depends on through payments');
  });

  it('a rollout still in progress is scored on the stage already live (its canary), at full weight', () => {
    const canary = deploy('canary', 'checkout-deploy', -2, {
      status: 'InProgress',
      deployEndedAt: undefined,
      endedAt: undefined,
      stages: [{ name: 'Canary', startedAt: at(-5), endedAt: at(-2), share: 0.1 }, { name: 'Full', startedAt: at(10) }],
    });
    const c = correlate(input([canary]));
    expect(c.suspect?.deployment.id).toBe('canary');
    expect(c.suspect?.reasons).toContain('its Canary stage (10 % of traffic) finished 2 min before the onset; the rollout was still in progress, so that part was already live');
    expect(c.suspect?.score).toBeGreaterThan(0.9);
  });

  it('an onset during the canary of a finished rollout is timed from the canary, not cleared as "before the deploy finished"', () => {
    const done = deploy('rollout', 'checkout-deploy', 15, { stages: [{ name: 'Canary', startedAt: at(-5), endedAt: at(-1), share: 0.1 }, { name: 'Full', startedAt: at(12), endedAt: at(15), share: 1 }] });
    const c = correlate(input([done]));
    expect(c.suspect?.deployment.id).toBe('rollout');
  });
});
