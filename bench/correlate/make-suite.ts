/**
 * Writes the scenario suite (test/fixtures/scenarios/NN-*.yaml) from the hand-written families below and
 * the generated steady-state families (steady-families.ts), and the held-out suite
 * (test/fixtures/scenarios-holdout/) from the same generators with other seeds and parameter draws.
 * `npx tsx bench/correlate/make-suite.ts` regenerates both; edit here, not the YAML files.
 *
 * Each hand-written family is a situation that fools a naive "blame the last deploy" rule; variants change
 * the service, the metric that breaks, the size of the effect, the noise and the seed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dep, doc, err, type Dep, type Ev, type Metric, type Scn, type Svc } from './scenario-kit.js';
import { steadyFamilies } from './steady-families.js';

const OUT = 'test/fixtures/scenarios';
const HOLDOUT = 'test/fixtures/scenarios-holdout';

const all: Scn[] = [];
const add = (s: Scn): void => void all.push(s);
const svcs: Svc[] = ['checkout', 'payments', 'inventory', 'search', 'auth'];

// --- A. A release breaks its own service (different metrics, sizes, delays) -----------------------------
const regress: [Svc, Metric, 'add' | 'multiply', number, string, string][] = [
  ['checkout', 'HTTPCode_Target_5XX_Count', 'add', 40, '1m', 'Switch the payment client to the v2 API'],
  ['payments', 'HTTPCode_Target_5XX_Count', 'add', 15, '0s', 'Validate currency codes strictly'],
  ['inventory', 'TargetResponseTime', 'multiply', 3, '2m', 'Add per-warehouse stock breakdown to the reservation response'],
  ['search', 'CPUUtilization', 'add', 35, '1m', 'Enable fuzzy matching for all queries'],
  ['auth', 'TargetResponseTime', 'multiply', 2.5, '0s', 'Raise bcrypt cost factor to 14'],
  ['checkout', 'RequestCount', 'multiply', 0.4, '1m', 'Move the checkout route behind the new feature flag'],
];
regress.forEach(([svc, metric, kind, value, delay, summary], i) => {
  const tag = `a${i}`;
  const at = `${6 + i}m`;
  const d = dep(tag, svc, at, summary, { changeSize: 40 + i * 97, effects: [{ metric, kind, value, delay }], logs: [{ every: '5s', delay, message: err(i % 2 ? 'npe' : 'timeout', { cls: 'OrderController', dep: 'payments' }) }] });
  const older = dep(`${tag}-old`, svc, `-${70 + i * 10}m`, 'Update dependencies');
  add({ name: `release-breaks-${svc}-${metric}`, description: `A ${svc} release (${summary}) breaks ${metric}; an older ${svc} release was fine.`, seed: 11 + i, services: { [svc]: {} }, deployments: [older, d], truth: [{ service: svc, cause: d.id, onset: `${6 + i + parseInt(delay)}m` }] });
});

// --- B. Several deployments close together -----------------------------------------------------------------
{
  const bad = dep('b0-bad', 'checkout', '5m', 'Cache cart totals', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: '1m' }], logs: [{ every: '4s', delay: '1m', message: err('npe', { cls: 'CartTotals' }) }] });
  const after = dep('b0-after', 'checkout', '9m', 'Fix typo on the receipt page', { changeSize: 2 });
  add({ name: 'several-deploys-bad-then-harmless', description: 'A bad checkout release, then a harmless one four minutes later (after the onset).', seed: 21, services: { checkout: {} }, deployments: [bad, after], truth: [{ service: 'checkout', cause: bad.id, onset: '6m' }] });
}
{
  const first = dep('b1-first', 'payments', '-12m', 'Rename a metric');
  const bad = dep('b1-bad', 'payments', '6m', 'Retry card declines', { effects: [{ metric: 'TargetResponseTime', kind: 'multiply', value: 3.5, delay: '1m' }, { metric: 'CPUUtilization', value: 25, delay: '1m' }] });
  add({ name: 'several-deploys-harmless-then-bad', description: 'A harmless payments release, then 18 minutes later the one that slows it down.', seed: 22, services: { payments: {} }, deployments: [first, bad], truth: [{ service: 'payments', cause: bad.id, onset: '7m' }] });
}
{
  const a = dep('b2-a', 'inventory', '-3m', 'Log reservation ids');
  const bad = dep('b2-bad', 'inventory', '4m', 'Batch stock updates', { changeSize: 820, effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 20, delay: '0s' }, { metric: 'TargetResponseTime', kind: 'multiply', value: 2.2, delay: '0s' }], logs: [{ every: '3s', message: err('pool') }] });
  const c = dep('b2-c', 'inventory', '8m', 'Bump base image');
  add({ name: 'several-deploys-three-in-a-row', description: 'Three inventory releases within 11 minutes; the middle one breaks it, the third lands after the onset.', seed: 23, services: { inventory: {} }, deployments: [a, bad, c], truth: [{ service: 'inventory', cause: bad.id, onset: '4m' }] });
}
{
  const ok = dep('b3-ok', 'search', '2m', 'Tune analyzer', { changeSize: 12 });
  const bad = dep('b3-bad', 'search', '10m', 'Upgrade the search client library', { changeSize: 1500, effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 18, delay: '2m' }], logs: [{ every: '5s', delay: '2m', message: err('timeout', { dep: 'opensearch' }) }] });
  add({ name: 'several-deploys-second-breaks-later', description: 'Two search releases 8 minutes apart; the second one breaks it two minutes after it lands.', seed: 24, services: { search: {} }, deployments: [ok, bad], truth: [{ service: 'search', cause: bad.id, onset: '12m' }] });
}

// --- C. A deployment of another service at the same time -------------------------------------------------
svcs.slice(0, 3).forEach((svc, i) => {
  const other = svcs[(i + 3) % 5] as Svc;
  const bad = dep(`c${i}-bad`, svc, `${5 + i}m`, 'Refactor request validation', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 20 + 5 * i, delay: '1m' }] });
  const noise = dep(`c${i}-other`, other, `${5 + i}m`, 'Change log format', { changeSize: 300 });
  add({ name: `other-service-deploys-same-minute-${svc}`, description: `${svc} breaks after its release; ${other} released in the same minute without effect.`, seed: 31 + i, services: { [svc]: {}, [other]: {} }, deployments: [noise, bad], truth: [{ service: svc, cause: bad.id, onset: `${6 + i}m` }] });
});
{
  const a = dep('c3-a', 'search', '6m', 'New ranking model', { effects: [{ metric: 'TargetResponseTime', kind: 'multiply', value: 3, delay: '1m' }] });
  const b = dep('c3-b', 'auth', '6m', 'Rotate signing keys early', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: '1m' }], logs: [{ every: '4s', delay: '1m', message: 'ERROR invalid signature kid={hex}' }] });
  add({ name: 'two-services-two-bad-releases-same-minute', description: 'search and auth each ship a bad release in the same minute: two incidents, each its own cause (not a shared dependency).', seed: 34, services: { search: {}, auth: {} }, deployments: [a, b], truth: [{ service: 'search', cause: a.id, onset: '7m' }, { service: 'auth', cause: b.id, onset: '7m' }] });
}

// --- D. A dependency's release breaks its callers ---------------------------------------------------------
{
  const bad = dep('d0', 'payments', '5m', 'Change the authorize response schema', { changeSize: 260, effects: [{ service: 'checkout', metric: 'HTTPCode_Target_5XX_Count', value: 30, delay: '1m' }], logs: [{ service: 'checkout', every: '4s', delay: '1m', message: 'ERROR cannot parse payments response: missing field "authCode" order={int:100000-999999}' }] });
  const own = dep('d0-own', 'checkout', '-50m', 'Copy changes');
  add({ name: 'dependency-release-breaks-caller', description: 'A payments release changes its response; only checkout (which calls payments) fails. Its own release 55 minutes earlier was fine.', seed: 41, services: { checkout: {}, payments: {} }, deployments: [own, bad], truth: [{ service: 'checkout', cause: bad.id, onset: '6m' }] });
}
{
  const bad = dep('d1', 'inventory', '8m', 'Drop the legacy stock endpoint', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 30, delay: '0s' }, { service: 'search', metric: 'HTTPCode_Target_5XX_Count', value: 20, delay: '0s' }, { service: 'checkout', metric: 'HTTPCode_Target_5XX_Count', value: 15, delay: '0s' }] });
  add({ name: 'dependency-release-breaks-it-and-callers', description: 'An inventory release breaks inventory and both services that call it.', seed: 42, services: { inventory: {}, search: {}, checkout: {} }, deployments: [bad], truth: [{ service: 'inventory', cause: bad.id, onset: '8m' }, { service: 'search', cause: bad.id, onset: '8m' }, { service: 'checkout', cause: bad.id, onset: '8m' }] });
}

// --- E. The anomaly began before the deployment -----------------------------------------------------------
svcs.slice(0, 3).forEach((svc, i) => {
  const ev: Ev = { name: `e${i}-upstream`, at: `${4 + i}m`, effects: [{ service: svc, metric: i === 1 ? 'TargetResponseTime' : 'HTTPCode_Target_5XX_Count', kind: i === 1 ? 'multiply' : 'add', value: i === 1 ? 3 : 25 }], logs: [{ service: svc, every: '5s', message: err('dns', { dep: 'db' }) }] };
  const d = dep(`e${i}`, svc, `${13 + 2 * i}m`, 'Attempted hotfix: raise timeouts');
  add({ name: `anomaly-began-before-deploy-${svc}`, description: `${svc} starts failing at ${4 + i}m (database trouble); someone ships a release at ${13 + 2 * i}m. The release is not the cause.`, seed: 51 + i, services: { [svc]: {} }, deployments: [d], events: [ev], truth: [{ service: svc, cause: 'none', onset: `${4 + i}m` }] });
});

// --- F. Region-wide dependency failure across services ----------------------------------------------------
{
  const d = dep('f0', 'checkout', '3m', 'Show delivery estimates');
  const ev: Ev = { name: 'f0-dynamodb', at: '9m', effects: (['checkout', 'payments', 'inventory'] as Svc[]).map((s) => ({ service: s, metric: 'HTTPCode_Target_5XX_Count', value: 20 })), logs: (['checkout', 'payments', 'inventory'] as Svc[]).map((s) => ({ service: s, every: '5s', message: 'ERROR ProvisionedThroughputExceededException from DynamoDB table={hex}' })) };
  add({ name: 'region-wide-dynamodb-errors-after-a-release', description: 'DynamoDB throttles in the region: checkout, payments and inventory fail at the same minute, six minutes after a checkout release.', seed: 61, services: { checkout: {}, payments: {}, inventory: {} }, deployments: [d], events: [ev], truth: (['checkout', 'payments', 'inventory'] as Svc[]).map((s) => ({ service: s, cause: 'none', onset: '9m' })) });
}
{
  const d1 = dep('f1-a', 'search', '4m', 'Add query logging');
  const d2 = dep('f1-b', 'auth', '-20m', 'Update client list');
  const svcsF: Svc[] = ['search', 'auth', 'inventory', 'payments'];
  const ev: Ev = { name: 'f1-az', at: '7m', effects: svcsF.map((s) => ({ service: s, metric: 'TargetResponseTime', kind: 'multiply' as const, value: 3 })) };
  add({ name: 'region-wide-network-latency', description: 'An availability-zone network problem slows four services at once; search and auth had releases shortly before.', seed: 62, services: { search: {}, auth: {}, inventory: {}, payments: {} }, deployments: [d1, d2], events: [ev], truth: svcsF.map((s) => ({ service: s, cause: 'none', onset: '7m' })) });
}
{
  const ev: Ev = { name: 'f2-nat', at: '12m', until: '30m', effects: (['payments', 'auth'] as Svc[]).map((s) => ({ service: s, metric: 'HTTPCode_Target_5XX_Count', value: 15 })) };
  const d = dep('f2', 'payments', '8m', 'Tighten idempotency checks');
  add({ name: 'shared-nat-gateway-failure', description: 'A NAT gateway fails: payments and auth cannot reach outside; payments released four minutes before.', seed: 63, services: { payments: {}, auth: {} }, deployments: [d], events: [ev], truth: [{ service: 'payments', cause: 'none', onset: '12m' }, { service: 'auth', cause: 'none', onset: '12m' }] });
}

// --- G. A slow memory leak that surfaces hours after the deploy -------------------------------------------
([['checkout', 150, false], ['inventory', 200, true]] as [Svc, number, boolean][]).forEach(([svc, ago, laterDeploy], i) => {
  const leak = dep(`g${i}`, svc, `-${ago}m`, 'Cache product images in process', { changeSize: 180, effects: [{ metric: 'MemoryUtilization', kind: 'ramp', value: 0.3, max: 52, healedBy: 'restart' }, { metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: `${ago + 10}m`, healedBy: 'restart' }, { metric: 'TargetResponseTime', kind: 'multiply', value: 3, delay: `${ago + 10}m`, healedBy: 'restart' }], logs: [{ every: '6s', delay: `${ago + 10}m`, message: err('oom') }] });
  const deps: Dep[] = [leak];
  if (laterDeploy) deps.push(dep(`g${i}-later`, svc, '-25m', 'Update feature flags', { changeSize: 4 }));
  add({ name: `memory-leak-surfaces-hours-later-${svc}`, description: `A ${svc} release leaks memory; ${Math.round(ago / 60 * 10) / 10} h later the tasks run out of memory and fail.${laterDeploy ? ' A harmless flag change shipped 35 minutes before the failures.' : ''}`, history: '1d', seed: 71 + i, services: { [svc]: {} }, deployments: deps, truth: [{ service: svc, cause: leak.id, onset: '10m' }] });
});

// --- H. A deployment with no effect (no incident expected) ------------------------------------------------
svcs.slice(0, 3).forEach((svc, i) => {
  const d = dep(`h${i}`, svc, `${5 + 3 * i}m`, 'Refactor without behaviour change', { changeSize: 900 });
  add({ name: `deploy-with-no-effect-${svc}${i === 2 ? '-noisy' : ''}`, description: `A ${svc} release changes nothing visible. No incident should open.`, seed: 81 + i, services: { [svc]: { noisy: i === 2, seasonal: i === 1 } }, deployments: [d], truth: [] });
});

// --- I. Noisy and seasonal metrics --------------------------------------------------------------------------
{
  const bad = dep('i0', 'checkout', '8m', 'Parallelise basket pricing', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: '1m' }] });
  add({ name: 'noisy-metrics-real-regression', description: 'checkout metrics are noisy (spikes); a release really breaks it.', seed: 91, services: { checkout: { noisy: true } }, deployments: [bad], truth: [{ service: 'checkout', cause: bad.id, onset: '9m' }] });
}
{
  const bad = dep('i1', 'search', '15m', 'Increase result page size', { effects: [{ metric: 'CPUUtilization', value: 40, delay: '0s' }, { metric: 'TargetResponseTime', kind: 'multiply', value: 2.5 }] });
  add({ name: 'seasonal-metrics-real-regression', description: 'search has a strong daily cycle; a release doubles its latency.', start: '2026-11-02T06:00:00Z', seed: 92, services: { search: { seasonal: true } }, deployments: [bad], truth: [{ service: 'search', cause: bad.id, onset: '15m' }] });
}
{
  add({ name: 'noisy-seasonal-nothing-happens', description: 'Noisy, seasonal metrics over the morning ramp-up; nothing is wrong.', start: '2026-11-02T05:00:00Z', duration: '60m', seed: 93, services: { checkout: { noisy: true, seasonal: true }, payments: { noisy: true, seasonal: true } }, deployments: [dep('i3', 'payments', '20m', 'Bump SDK')], truth: [] });
}
{
  const ev: Ev = { name: 'i4-traffic', at: '10m', until: '35m', effects: [{ service: 'checkout', metric: 'CPUUtilization', value: 35 }, { service: 'checkout', metric: 'TargetResponseTime', kind: 'multiply', value: 2 }] };
  add({ name: 'traffic-surge-old-release', description: 'A marketing e-mail doubles checkout traffic; the last checkout release was 95 minutes earlier.', seed: 94, services: { checkout: { seasonal: true } }, deployments: [dep('i4', 'checkout', '-85m', 'Add gift wrapping option')], events: [ev], truth: [{ service: 'checkout', cause: 'none', onset: '10m' }] });
}

// --- J. Missing data -----------------------------------------------------------------------------------------
{
  const bad = dep('j0', 'payments', '7m', 'New fraud rules engine', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 20, delay: '2m' }, { metric: 'TargetResponseTime', kind: 'multiply', value: 3, delay: '2m' }] });
  add({ name: 'missing-data-around-onset', description: 'The payments metrics have gaps around the release; it still breaks payments.', seed: 101, services: { payments: { gaps: { HTTPCode_Target_5XX_Count: [{ from: '5m', to: '10m' }], TargetResponseTime: [{ from: '-40m', to: '-20m' }] } } }, deployments: [bad], truth: [{ service: 'payments', cause: bad.id, onset: '9m' }] });
}
{
  add({ name: 'missing-data-no-incident', description: 'Metrics stop reporting for a while (agent restart) after a harmless release; a gap is not an anomaly.', seed: 102, services: { auth: { gaps: { HTTPCode_Target_5XX_Count: [{ from: '8m', to: '20m' }], CPUUtilization: [{ from: '8m', to: '20m' }], TargetResponseTime: [{ from: '8m', to: '20m' }], MemoryUtilization: [{ from: '8m', to: '20m' }] } } }, deployments: [dep('j1', 'auth', '7m', 'Upgrade the CloudWatch agent')], truth: [] });
}
{
  const ev: Ev = { name: 'j2-disk', at: '15m', effects: [{ service: 'inventory', metric: 'TargetResponseTime', kind: 'multiply', value: 4 }] };
  add({ name: 'missing-data-then-non-deploy-failure', description: 'inventory has a reporting gap, then its database disk fills; no release in hours.', seed: 103, services: { inventory: { gaps: { TargetResponseTime: [{ from: '2m', to: '9m' }] } } }, events: [ev], truth: [{ service: 'inventory', cause: 'none', onset: '15m' }] });
}

// --- K. Failures nobody deployed ---------------------------------------------------------------------------
svcs.forEach((svc, i) => {
  if (i > 1) return;
  const ev: Ev = { name: `k${i}`, at: `${8 + i}m`, effects: [{ service: svc, metric: 'HTTPCode_Target_5XX_Count', value: 18 }], logs: [{ service: svc, every: '5s', message: 'ERROR certificate has expired for {dep}.partner.example'.replace('{dep}', svc) }] };
  add({ name: `no-deploy-expired-certificate-${svc}`, description: `${svc} fails because a partner certificate expired; its last release was ${3 + i} h ago.`, history: '1d', seed: 111 + i, services: { [svc]: {} }, deployments: [dep(`k${i}`, svc, `-${180 + 60 * i}m`, 'Minor fixes')], events: [ev], truth: [{ service: svc, cause: 'none', onset: `${8 + i}m` }] });
});
{
  const other = dep('k2-other', 'search', '6m', 'Reindex products');
  const ev: Ev = { name: 'k2-batch', at: '8m', effects: [{ service: 'payments', metric: 'CPUUtilization', value: 40 }, { service: 'payments', metric: 'TargetResponseTime', kind: 'multiply', value: 2.5 }] };
  add({ name: 'unrelated-service-deploy-then-failure', description: 'search releases, two minutes later payments slows down because of a settlement batch job; search does not call payments.', seed: 113, services: { payments: {}, search: {} }, deployments: [other], events: [ev], truth: [{ service: 'payments', cause: 'none', onset: '8m' }] });
}

// --- L. Other deploy shapes ------------------------------------------------------------------------------------
{
  const bad = dep('l0', 'auth', '6m', 'Migrate sessions to the new store', { status: 'Failed', effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 30, delay: '0s' }], logs: [{ every: '4s', message: 'ERROR session store unreachable: {ip}:6379 refused' }] });
  add({ name: 'failed-deployment-left-broken-tasks', description: 'An auth deployment fails half way; the tasks it started throw errors.', seed: 121, services: { auth: {} }, deployments: [bad], truth: [{ service: 'auth', cause: bad.id, onset: '6m' }] });
}
{
  const bad = dep('l1', 'search', '4m', 'Lazy-load synonyms', { effects: [{ metric: 'TargetResponseTime', kind: 'multiply', value: 3, delay: '12m' }], logs: [{ every: '5s', delay: '12m', message: 'WARN synonyms cache miss, loading from S3 key={hex}' }] });
  add({ name: 'effect-twelve-minutes-after-deploy', description: 'A search release degrades only once its warm cache expires, twelve minutes after it lands.', seed: 122, services: { search: {} }, deployments: [bad], truth: [{ service: 'search', cause: bad.id, onset: '16m' }] });
}
{
  const bad = dep('l2', 'payments', '5m', 'Raise worker concurrency', { effects: [{ metric: 'CPUUtilization', value: 45, delay: '1m' }, { metric: 'MemoryUtilization', value: 20, delay: '1m' }] });
  add({ name: 'release-saturates-cpu-and-memory', description: 'A payments release doubles worker concurrency; CPU and memory jump.', seed: 123, services: { payments: {} }, deployments: [bad], truth: [{ service: 'payments', cause: bad.id, onset: '6m' }] });
}
{
  const ev: Ev = { name: 'm0-flap', at: '5m', until: '8m', effects: [{ service: 'search', metric: 'HTTPCode_Target_5XX_Count', value: 20 }] };
  const ev2: Ev = { name: 'm0-flap2', at: '11m', until: '14m', effects: [{ service: 'search', metric: 'HTTPCode_Target_5XX_Count', value: 20 }] };
  const ev3: Ev = { name: 'm0-flap3', at: '17m', until: '21m', effects: [{ service: 'search', metric: 'HTTPCode_Target_5XX_Count', value: 20 }] };
  add({ name: 'flapping-errors-one-incident', description: 'search errors come and go three times within 16 minutes (a flaky dependency): one incident, not three.', seed: 131, services: { search: {} }, events: [ev, ev2, ev3], truth: [{ service: 'search', cause: 'none', onset: '5m' }] });
}
{
  const ev: Ev = { name: 'm1-blip', at: '10m', until: '25m', effects: [{ service: 'checkout', metric: 'TargetResponseTime', kind: 'multiply', value: 3 }] };
  const bad = dep('m1', 'checkout', '50m', 'Inline the address service', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 30, delay: '1m' }] });
  add({ name: 'two-incidents-one-service', description: 'checkout slows for 15 minutes (a dependency hiccup), recovers, and 25 minutes later a release breaks it: two incidents, two causes.', duration: '70m', seed: 132, services: { checkout: {} }, deployments: [bad], events: [ev], truth: [{ service: 'checkout', cause: 'none', onset: '10m' }, { service: 'checkout', cause: bad.id, onset: '51m' }] });
}
{
  const bad = dep('m2', 'inventory', '6m', 'Switch to the new ORM', { effects: [{ metric: 'TargetResponseTime', kind: 'multiply', value: 2.5, delay: '1m' }, { metric: 'CPUUtilization', value: 30, delay: '1m' }, { metric: 'HTTPCode_Target_5XX_Count', value: 10, delay: '3m' }], logs: [{ every: '5s', delay: '1m', message: err('schema', { col: 'warehouse_id' }) }] });
  add({ name: 'release-breaks-several-metrics-one-incident', description: 'An inventory release slows it, burns CPU, and two minutes later errors too: one incident.', seed: 133, services: { inventory: {} }, deployments: [bad], truth: [{ service: 'inventory', cause: bad.id, onset: '7m' }] });
}
{
  const bad = dep('m3', 'checkout', '5m', 'Read prices from the new service', { effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 25, delay: '1m' }] });
  const other = dep('m3-dep', 'payments', '4m', 'Add a tracing header', { changeSize: 10 });
  add({ name: 'own-release-beats-dependency-release', description: 'checkout and payments (a dependency of checkout) release a minute apart; checkout\'s own release breaks it.', seed: 134, services: { checkout: {}, payments: {} }, deployments: [other, bad], truth: [{ service: 'checkout', cause: bad.id, onset: '6m' }] });
}
{
  const ev: Ev = { name: 'm4-gc', at: '18m', until: '38m', effects: [{ service: 'auth', metric: 'TargetResponseTime', kind: 'multiply', value: 3 }] };
  const old = dep('m4', 'auth', '-55m', 'Add audit fields to tokens');
  add({ name: 'old-own-release-unrelated-slowdown', description: 'auth slows down because its database runs a vacuum; its last release was 73 minutes earlier and was fine.', seed: 135, services: { auth: {} }, deployments: [old], events: [ev], truth: [{ service: 'auth', cause: 'none', onset: '18m' }] });
}
{
  const bad = dep('m5', 'payments', '6m', 'Lower the HTTP client timeout', { changeSize: 1, effects: [{ metric: 'HTTPCode_Target_5XX_Count', value: 12, delay: '0s' }] });
  add({ name: 'one-line-config-change-breaks', description: 'A one-line payments change (client timeout) causes errors.', seed: 136, services: { payments: { noisy: true } }, deployments: [bad], truth: [{ service: 'payments', cause: bad.id, onset: '6m' }] });
}
// --- Cold start: a few of the cases above again with only the poll window of history ---------------------
const coldStart = ['release-breaks-checkout-HTTPCode_Target_5XX_Count', 'dependency-release-breaks-caller', 'anomaly-began-before-deploy-checkout', 'deploy-with-no-effect-checkout', 'region-wide-network-latency', 'two-incidents-one-service'];
for (const name of coldStart) {
  const s = all.find((x) => x.name === name);
  if (s) add({ ...s, name: `cold-start-${name}`, description: `${s.description} The daemon starts with no history beyond its poll window (cold start).`, history: '2h', seed: s.seed + 500 });
}

/** Writes scenarios as NN-name.yaml into a folder emptied of its old generated files first. */
function write(dir: string, scenarios: readonly Scn[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (/^\d+-.*\.yaml$/.test(f)) rmSync(join(dir, f));
  scenarios.forEach((s, i) => {
    const file = join(dir, `${String(i + 1).padStart(2, '0')}-${s.name}.yaml`);
    writeFileSync(file, `# Generated by bench/correlate/make-suite.ts — edit the generator, then regenerate.\n${stringify(doc(s), { lineWidth: 0 })}`);
  });
  console.log(`wrote ${scenarios.length} scenarios to ${dir}`);
}

write(OUT, [...all, ...steadyFamilies(1, 2)]);
// Held out: the same generators, other seeds and parameter draws; never looked at while writing the rules.
write(HOLDOUT, steadyFamilies(9001, 4));
