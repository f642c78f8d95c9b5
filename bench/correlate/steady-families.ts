/**
 * Generated steady-state scenario families: each is a mechanism that fooled the daemon on data nobody
 * tuned for (issue 14), drawn with random services, metrics, sizes, times, noise, seasonality and seeds,
 * so the suite does not encode one file's numbers. The visible and the held-out suite come from the
 * same families with different base seeds.
 */
import { dep, err, type Dep, type Ev, type Metric, type Scn, type Svc, type SvcOpts } from './scenario-kit.js';
import { mulberry32 } from '../../src/cloud/sim/random.js';

const rng = mulberry32;

interface Draw {
  readonly r: () => number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  num(lo: number, hi: number): number;
}

function draw(seed: number): Draw {
  const r = rng(seed);
  return {
    r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(r() * xs.length)] as (typeof xs)[number],
    num: (lo, hi) => lo + r() * (hi - lo),
  };
}

const SVCS: Svc[] = ['checkout', 'payments', 'inventory', 'search', 'auth'];
/** Caller → a service it calls (suite policy `dependsOn`). */
const CALLS: [Svc, Svc][] = [['checkout', 'payments'], ['checkout', 'inventory'], ['payments', 'auth'], ['search', 'inventory'], ['inventory', 'auth']];
/** Caller → (middle, far): far is reached only through middle. */
const TRANSITIVE: [Svc, Svc, Svc][] = [['search', 'inventory', 'auth']];
const SUMMARIES = ['Refactor the request pipeline', 'Upgrade the HTTP client', 'Add a cache for lookups', 'New pricing rules', 'Batch database writes', 'Switch serializer', 'Tune connection pool', 'Enable compression'];
const HARMLESS = ['Fix a typo', 'Update copy', 'Bump a minor dependency', 'Add a log field', 'Rename an internal metric'];

/** A start time: some weekday at a random hour (daily cycles are at a random phase). */
function start(d: Draw, day = d.int(2, 6)): string {
  return `2026-11-${String(day).padStart(2, '0')}T${String(d.int(0, 23)).padStart(2, '0')}:${String(d.pick([0, 15, 30, 45])).padStart(2, '0')}:00Z`;
}

function opts(d: Draw): SvcOpts {
  return { noisy: d.r() < 0.3, daily: d.pick([0, 1, 2]), noise: d.num(0.8, 1.3) };
}

/** A clear regression of one metric: several noise widths, the way it shows (add or multiply). */
function breakOf(d: Draw, metric: Metric, big = true): { kind: 'add' | 'multiply'; value: number } {
  const k = big ? d.num(1, 1.6) : d.num(0.6, 0.9);
  switch (metric) {
    case 'HTTPCode_Target_5XX_Count': return { kind: 'add', value: Math.round(18 * k) };
    case 'TargetResponseTime': return { kind: 'multiply', value: Math.round((1 + 2 * k) * 10) / 10 };
    case 'CPUUtilization': return { kind: 'add', value: Math.round(35 * k) };
    case 'MemoryUtilization': return { kind: 'add', value: Math.round(22 * k) };
    default: return { kind: 'multiply', value: 0.4 };
  }
}

type Family = (d: Draw, tag: string, seed: number) => Scn;

const families: Record<string, Family> = {
  /** An older, larger release, then a smaller one that starts a memory climb; it surfaces much later. */
  'drift-began-at-later-release': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const leakAgo = d.int(80, 160);
    const surface = d.int(8, 14);
    const oldAgo = leakAgo + d.int(40, 120);
    const rate = d.num(0.15, 0.3);
    const leak = dep(`${tag}-leak`, svc, `-${leakAgo}m`, d.pick(SUMMARIES), { changeSize: d.int(10, 80), effects: [{ metric: 'MemoryUtilization', kind: 'ramp', value: Math.round(rate * 100) / 100, max: 50, healedBy: 'restart' }, { metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: `${leakAgo + surface}m`, healedBy: 'restart' }], logs: [{ every: '6s', delay: `${leakAgo + surface}m`, message: err('oom') }] });
    const older = dep(`${tag}-old`, svc, `-${oldAgo}m`, d.pick(SUMMARIES), { changeSize: d.int(800, 3000) });
    return { name: `drift-began-at-later-release-${svc}-${tag}`, description: `A ${svc} release ${leakAgo} min before the failures starts a memory climb; an older, larger release ${oldAgo} min before was fine.`, start: start(d), seed, services: { [svc]: { ...opts(d), noisy: false } }, deployments: [older, leak], truth: [{ service: svc, cause: leak.id, onset: `${surface}m` }] };
  },

  /** A trivial own release 15–25 min before; the dependency's release at the onset; new lines name it. */
  'dependency-named-in-logs': (d, tag, seed) => {
    const [caller, callee] = d.pick(CALLS);
    const at = d.int(5, 12);
    const own = dep(`${tag}-own`, caller, `${at - d.int(15, 25)}m`, d.pick(HARMLESS), { changeSize: d.int(1, 8) });
    const bad = dep(`${tag}-dep`, callee, `${at}m`, d.pick(SUMMARIES), { changeSize: d.int(50, 600), effects: [{ service: caller, metric: 'HTTPCode_Target_5XX_Count', value: d.int(18, 30), delay: '1m' }], logs: [{ service: caller, every: '4s', delay: '1m', message: `ERROR unexpected response from ${callee}: status=500 path=/v1/{int:1-9} request_id={uuid}` }] });
    return { name: `dependency-named-in-logs-${caller}-${callee}-${tag}`, description: `${callee} releases and ${caller}'s calls to it fail (the new error lines name ${callee}); ${caller} shipped a trivial change shortly before.`, start: start(d), seed, services: { [caller]: opts(d), [callee]: opts(d) }, deployments: [own, bad], truth: [{ service: caller, cause: bad.id, onset: `${at + 1}m` }] };
  },

  /** A dependency released near the onset, but the failure is the caller's own database; the dependency is fine. */
  'dependency-release-quiet-dependency': (d, tag, seed) => {
    const [caller, callee] = d.pick(CALLS);
    const at = d.int(6, 14);
    const other = dep(`${tag}-dep`, callee, `${at - d.int(0, 3)}m`, d.pick(SUMMARIES), { changeSize: d.int(20, 400) });
    const metric = d.pick<Metric>(['HTTPCode_Target_5XX_Count', 'TargetResponseTime']);
    const ev: Ev = { name: `${tag}-db`, at: `${at}m`, effects: [{ service: caller, metric, ...breakOf(d, metric) }], logs: [{ service: caller, every: '5s', message: 'ERROR deadlock detected on table orders_{int:1-9} (retrying)' }] };
    return { name: `dependency-release-quiet-dependency-${caller}-${tag}`, description: `${caller} fails on its own database; ${callee} (which it calls) released at nearly the same time but shows nothing wrong.`, start: start(d), seed, services: { [caller]: opts(d), [callee]: opts(d) }, deployments: [other], events: [ev], truth: [{ service: caller, cause: 'none', onset: `${at}m` }] };
  },

  /** A slow latency creep that starts at a release, on a warm baseline. */
  'slow-creep-after-release': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const at = d.int(4, 10);
    const bad = dep(`${tag}`, svc, `${at}m`, d.pick(SUMMARIES), { effects: [{ metric: 'TargetResponseTime', kind: 'ramp', value: Math.round(d.num(0.008, 0.015) * 1000) / 1000, max: 0.4 }] });
    return { name: `slow-creep-after-release-${svc}-${tag}`, description: `A ${svc} release makes latency creep up a little every minute.`, start: start(d), duration: '50m', seed, services: { [svc]: { ...opts(d), noisy: false } }, deployments: [bad], truth: [{ service: svc, cause: bad.id, onset: `${at}m` }] };
  },

  /** A mild error rise with a brand-new error template. */
  'mild-errors-new-template': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const at = d.int(4, 12);
    const bad = dep(`${tag}`, svc, `${at}m`, d.pick(SUMMARIES), { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: d.int(5, 8), delay: '1m' }], logs: [{ every: `${d.int(3, 6)}s`, delay: '1m', message: err(d.pick(['npe', 'schema', 'pool'] as const), { cls: 'OrderService', col: 'region_id' }) }] });
    return { name: `mild-errors-new-template-${svc}-${tag}`, description: `A ${svc} release adds a few errors a minute, with an error line never seen before.`, start: start(d), seed, services: { [svc]: { ...opts(d), noisy: false } }, deployments: [bad], truth: [{ service: svc, cause: bad.id, onset: `${at + 1}m` }] };
  },

  /** Strong daily cycles and harmless spikes over an ordinary hour, with a harmless release: nothing opens. */
  'daily-peak-nothing-wrong': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    return { name: `daily-peak-nothing-wrong-${svc}-${tag}`, description: `${svc} goes through its daily peak with occasional one-point spikes; a harmless release lands. No incident.`, start: start(d), duration: '60m', history: '2d', seed, services: { [svc]: { seasonal: true, noisy: d.r() < 0.5 } }, deployments: [dep(`${tag}`, svc, `${d.int(5, 40)}m`, d.pick(HARMLESS))], truth: [] };
  },

  /** Canary (10–25 % of traffic), then full: the errors begin during the canary and grow at full rollout. */
  'canary-then-full': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const canary = d.int(4, 10);
    const full = canary + d.int(8, 15);
    const share = d.pick([0.1, 0.2, 0.25]);
    const bad = dep(`${tag}`, svc, undefined, d.pick(SUMMARIES), { stages: [{ name: 'Canary', at: `${canary}m`, share }, { name: 'Full', at: `${full}m`, share: 1 }], effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: d.int(30, 60), delay: '1m' }], logs: [{ every: '5s', delay: '1m', message: err('timeout', { dep: 'ledger' }) }] });
    return { name: `canary-then-full-${svc}-${tag}`, description: `A ${svc} rollout goes to ${share * 100} % of traffic, then to all of it; its errors begin during the canary.`, start: start(d), seed, duration: `${full + 20}m`, services: { [svc]: opts(d) }, deployments: [bad], truth: [{ service: svc, cause: bad.id, onset: `${canary + 1}m` }] };
  },

  /** The canary breaks things and the full stage has not started when the incident is proposed. */
  'canary-in-progress': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const canary = d.int(4, 10);
    const older = dep(`${tag}-old`, svc, `-${d.int(30, 90)}m`, d.pick(HARMLESS));
    const bad = dep(`${tag}`, svc, undefined, d.pick(SUMMARIES), { stages: [{ name: 'Canary', at: `${canary}m`, share: 0.3 }, { name: 'Full', at: `${canary + 60}m`, duration: '5m', share: 1 }], effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: d.int(60, 90), delay: '1m' }] });
    return { name: `canary-in-progress-${svc}-${tag}`, description: `A ${svc} canary (30 % of traffic) throws errors while the rollout is still in progress.`, start: start(d), seed, services: { [svc]: opts(d) }, deployments: [older, bad], truth: [{ service: svc, cause: bad.id, onset: `${canary + 1}m` }] };
  },

  /** A rollback to an old version breaks the service (it cannot read data the newer version wrote). */
  'rollback-is-the-cause': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const at = d.int(5, 12);
    const a = dep(`${tag}-a`, svc, `-${d.int(120, 240)}m`, 'Store carts in the new format');
    const b = dep(`${tag}-b`, svc, `-${d.int(30, 90)}m`, d.pick(HARMLESS));
    const rb = dep(`${tag}-rb`, svc, `${at}m`, `Roll back to ${a.revision.id}`, { rollbackOf: b.id, effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: d.int(20, 35), delay: '1m' }], logs: [{ every: '4s', delay: '1m', message: 'ERROR cannot decode record format=v{int:3-3} expected=v2 key={hex}' }] });
    return { name: `rollback-is-the-cause-${svc}-${tag}`, description: `Someone rolls ${svc} back; the old code cannot read records the newer code wrote.`, start: start(d), seed, services: { [svc]: opts(d) }, deployments: [a, b, rb], truth: [{ service: svc, cause: rb.id, onset: `${at + 1}m` }] };
  },

  /** A bad release, rolled back by its team 10–20 min later: one incident, blaming the release. */
  'rollback-heals': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const at = d.int(4, 10);
    const metric = d.pick<Metric>(['HTTPCode_Target_5XX_Count', 'TargetResponseTime', 'CPUUtilization']);
    const bad = dep(`${tag}`, svc, `${at}m`, d.pick(SUMMARIES), { effects: [{ metric, ...breakOf(d, metric), delay: '1m' }] });
    const rb = dep(`${tag}-rb`, svc, `${at + d.int(10, 20)}m`, 'Roll back', { rollbackOf: bad.id });
    return { name: `rollback-heals-${svc}-${tag}`, description: `A ${svc} release breaks ${metric}; its team rolls it back by hand.`, start: start(d), seed, services: { [svc]: opts(d) }, deployments: [bad, rb], truth: [{ service: svc, cause: bad.id, onset: `${at + 1}m` }] };
  },

  /** A crash loop: requests collapse, the 200s stop, restarts fill the log. */
  'crash-loop-silences-200s': (d, tag, seed) => {
    const at = d.int(5, 12);
    const bad = dep(`${tag}`, 'checkout', `${at}m`, d.pick(SUMMARIES), { effects: [{ metric: 'RequestCount', kind: 'multiply', value: Math.round(d.num(0.15, 0.4) * 100) / 100, delay: '1m' }, { metric: 'HTTPCode_Target_5XX_Count', value: d.int(15, 30), delay: '1m' }], silences: [{ match: ' 200 ', delay: '1m' }, { match: ' 201 ', delay: '1m' }], logs: [{ every: '8s', delay: '1m', message: 'ERROR task {hex} exited with code 137, restarting (attempt {int:1-9})' }] });
    return { name: `crash-loop-silences-200s-${tag}`, description: 'A checkout release crash-loops: requests fall, the usual 200 lines stop, restart errors appear.', start: start(d), seed, services: { checkout: opts(d) }, deployments: [bad], truth: [{ service: 'checkout', cause: bad.id, onset: `${at + 1}m` }] };
  },

  /** A release two hops away breaks the middle service, and through it the caller. */
  'transitive-dependency': (d, tag, seed) => {
    const [caller, middle, far] = d.pick(TRANSITIVE);
    const at = d.int(5, 12);
    const bad = dep(`${tag}`, far, `${at}m`, d.pick(SUMMARIES), { effects: [{ service: middle, metric: 'HTTPCode_Target_5XX_Count', value: d.int(20, 30), delay: '1m' }, { service: caller, metric: 'HTTPCode_Target_5XX_Count', value: d.int(15, 25), delay: '1m' }], logs: [{ service: middle, every: '4s', delay: '1m', message: `ERROR ${far} rejected token: invalid audience request_id={uuid}` }, { service: caller, every: '5s', delay: '1m', message: `ERROR ${middle} returned 502 for /items/{int:1-999}` }] });
    const own = dep(`${tag}-own`, caller, `${at - d.int(20, 40)}m`, d.pick(HARMLESS));
    return { name: `transitive-dependency-${caller}-${far}-${tag}`, description: `${far} releases; ${middle} (which calls it) fails, and ${caller} (which calls ${middle}) fails too.`, start: start(d), seed, services: { [caller]: opts(d), [middle]: opts(d), [far]: opts(d) }, deployments: [own, bad], truth: [{ service: middle, cause: bad.id, onset: `${at + 1}m` }, { service: caller, cause: bad.id, onset: `${at + 1}m` }] };
  },

  /** Monday morning after a quiet weekend (a weekly cycle in the history); optionally a real regression. */
  'weekly-monday': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const bad = d.r() < 0.5;
    const at = d.int(10, 30);
    const metric = d.pick<Metric>(['HTTPCode_Target_5XX_Count', 'TargetResponseTime']);
    const deployments: Dep[] = bad ? [dep(`${tag}`, svc, `${at}m`, d.pick(SUMMARIES), { effects: [{ metric, ...breakOf(d, metric), delay: '1m' }] })] : [dep(`${tag}`, svc, `${at}m`, d.pick(HARMLESS))];
    return { name: `weekly-monday-${bad ? 'regression' : 'quiet'}-${svc}-${tag}`, description: `Monday ${bad ? 'morning: traffic returns after the weekend and a release breaks ' + metric : 'morning: traffic returns after the weekend; nothing is wrong'}.`, start: `2026-11-09T0${d.int(6, 9)}:00:00Z`, history: '3d', duration: '50m', seed, services: { [svc]: { weekly: Math.round(d.num(0.3, 0.5) * 100) / 100, daily: 1 } }, deployments, truth: bad ? [{ service: svc, cause: deployments[0]?.id ?? '', onset: `${at + 1}m` }] : [] };
  },

  /** A small canary blip that the canary's own rollback ends: one incident (blaming it) or none. */
  'canary-blip-rolled-back': (d, tag, seed) => {
    const svc = d.pick(SVCS);
    const canary = d.int(4, 10);
    const bad = dep(`${tag}`, svc, undefined, d.pick(SUMMARIES), { stages: [{ name: 'Canary', at: `${canary}m`, share: 0.1 }, { name: 'Full', at: `${canary + 90}m`, share: 1 }], effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: d.int(40, 80), delay: '1m' }] });
    const rb = dep(`${tag}-rb`, svc, `${canary + d.int(4, 7)}m`, 'Automatic canary rollback', { rollbackOf: bad.id });
    return { name: `canary-blip-rolled-back-${svc}-${tag}`, description: `A ${svc} canary errors on 10 % of traffic and is rolled back automatically a few minutes later.`, start: start(d), seed, services: { [svc]: opts(d) }, deployments: [bad, rb], truth: [{ service: svc, cause: bad.id, onset: `${canary + 1}m`, optional: true }] };
  },
};

/** `perFamily` scenarios of every family, drawn from `baseSeed`. */
export function steadyFamilies(baseSeed: number, perFamily: number): Scn[] {
  const out: Scn[] = [];
  Object.values(families).forEach((make, f) => {
    for (let i = 0; i < perFamily; i++) {
      const seed = baseSeed * 1000 + f * 37 + i;
      out.push(make(draw(seed), `s${baseSeed}-${f}-${i}`, seed));
    }
  });
  return out;
}

export const FAMILY_NAMES = Object.keys(families);
