/**
 * npm run bench:noise [-- --metrics 300 --days 15 --every 5m --history 2d]
 *
 * Issue 14's "synthetic noise at scale", reproduced: simulated metrics (10 per service) with varied levels, noise,
 * daily and weekly cycles and harmless one-point spikes, watched for simulated days by the real pipeline (the daemon's
 * detector, minimum duration, grouping and correlation, on the embedded simulated cloud, policy defaults for detection
 * and grouping). One real 20-minute burst every 3 hours on a rotating service, a harmless deployment every 2 hours on
 * another. Nobody approves: a proposal expires after the approval ttl, as an ignored page does.
 *
 * An incident is true when its first signal starts within a burst on its service (up to 30 minutes after the burst
 * ended: the grouping's hysteresis), false otherwise. Prints the false incidents per 1,000 metric-days overall and per
 * simulated day (a figure that rises over the run means the detector learns its way into noise), and the bursts' recall.
 * The daemon backfills `history` before it scores (warm start), so the run measures the steady state, not the cold start.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { openEstate, START } from './reliability/synthetic-world.js';

const { values: args } = parseArgs({
  options: { metrics: { type: 'string', default: '300' }, days: { type: 'string', default: '15' }, every: { type: 'string', default: '5m' }, history: { type: 'string', default: '2d' }, seed: { type: 'string', default: '7' } },
});
const METRICS = Number(args.metrics);
const DAYS = Number(args.days);
const PER_SERVICE = 10;
const BURST_EVERY_H = 3;
const BURST_MIN = 20;
const DEPLOY_EVERY_H = 2;
const SLACK_MS = 30 * 60_000;

const svc = (i: number): string => `svc${String(i).padStart(3, '0')}`;
const services = Math.ceil(METRICS / PER_SERVICE);
const dir = mkdtempSync(join(tmpdir(), 'cloudops-noise-'));

// A deterministic spread of kinds of series: levels over three decades, noise 1–8 % of the level, daily cycles up to
// 40 %, weekend dips on a third, harmless spikes on a quarter.
const scenarioServices: Record<string, unknown> = {};
const policyServices: Record<string, unknown> = {};
const metrics: unknown[] = [];
for (let s = 0; s < services; s++) {
  const ms: Record<string, unknown> = {};
  for (let m = 0; m < PER_SERVICE && s * PER_SERVICE + m < METRICS; m++) {
    const k = s * PER_SERVICE + m;
    const level = [5, 50, 500, 5000][k % 4]! * (1 + ((k * 37) % 10) / 10);
    ms[`m${m}`] = {
      baseline: {
        level,
        noise: level * (0.01 + ((k * 13) % 8) / 100),
        daily: ((k * 7) % 5) * 0.1,
        weekly: k % 3 === 0 ? 0.2 : 0,
        spikes: k % 4 === 1 ? 0.005 : 0,
      },
    };
    metrics.push({ id: `${svc(s)}m${m}`, service: svc(s), namespace: 'Bench', metricName: `m${m}`, dimensions: { Service: svc(s) }, stat: 'Average' });
  }
  scenarioServices[svc(s)] = { metrics: ms };
  policyServices[svc(s)] = { pipelines: [`${svc(s)}-deploy`] };
}
const totalMin = DAYS * 24 * 60;
const bursts: { service: string; metric: string; at: number }[] = [];
const events: unknown[] = [];
for (let h = BURST_EVERY_H, k = 0; h * 60 + BURST_MIN < totalMin; h += BURST_EVERY_H, k++) {
  const s = (k * 7) % services;
  const m = k % PER_SERVICE;
  const metric = (scenarioServices[svc(s)] as { metrics: Record<string, { baseline: { level: number; noise: number } }> }).metrics[`m${m}`]!;
  bursts.push({ service: svc(s), metric: `m${m}`, at: Date.parse(START) + h * 3_600_000 });
  // A real error burst: the metric moves by half its level (well beyond its noise) for 20 minutes.
  events.push({ name: `burst-${k}`, at: `${h * 60}m`, until: `${h * 60 + BURST_MIN}m`, effects: [{ service: svc(s), metric: `m${m}`, kind: 'add', value: Math.max(metric.baseline.level * 0.5, 8 * metric.baseline.noise) }] });
}
const deployments: unknown[] = [];
for (let h = DEPLOY_EVERY_H, k = 0; h * 60 < totalMin; h += DEPLOY_EVERY_H, k++) {
  const s = (k * 11 + 3) % services;
  deployments.push({ id: `ok-${k}`, pipeline: `${svc(s)}-deploy`, service: svc(s), at: `${h * 60}m`, revision: { id: `r${k}`, summary: `harmless release ${k}` } });
}
writeFileSync(join(dir, 'scenario.yaml'), stringify({ name: 'bench-noise', start: START, history: args.history, duration: `${totalMin + 10}m`, seed: Number(args.seed), services: scenarioServices, deployments, events }));

const doc = parse(readFileSync('config/demo.yaml', 'utf8')) as Record<string, unknown> & { runbooks: { dir: string }; approval: Record<string, unknown>; safety: Record<string, unknown> };
doc['cloud'] = { kind: 'sim', scenario: join(dir, 'scenario.yaml'), speed: 30 };
doc.runbooks.dir = resolve('config', doc.runbooks.dir);
doc['schedule'] = { every: args.every, window: '2h' };
doc['store'] = { kind: 'sqlite', path: 'bench.db' };
doc['services'] = policyServices;
doc['metrics'] = metrics;
// The policy defaults for detection and grouping: what a team gets before it tunes anything.
delete doc['detection'];
delete doc['grouping'];
doc.approval = { ...doc.approval, reminders: [] };
delete doc.approval['escalation'];
const policyFile = join(dir, 'policy.yaml');
writeFileSync(policyFile, stringify(doc));

const t0 = performance.now();
const e = openEstate(dir, policyFile);
const cycles = Math.round((DAYS * 24 * 3_600_000) / e.policy.pollEveryMs);
for (let c = 1; c <= cycles; c++) await e.step();
await e.watcher.queueIdle();
const incidents = await e.store.listIncidents({ limit: 1_000_000 });
await e.store.close();

const start = Date.parse(START);
const dayOf = (t: number): number => Math.floor((t - start) / 86_400_000);
const falseByDay = new Array<number>(DAYS).fill(0);
const caught = new Set<number>();
let falseCount = 0;
const falseSamples: string[] = [];
for (const inc of incidents) {
  const onset = Math.min(...inc.signals.map((s) => s.startedAt));
  const hit = bursts.findIndex((b) => b.service === inc.service && onset >= b.at - e.policy.pollEveryMs && onset <= b.at + BURST_MIN * 60_000 + SLACK_MS);
  if (hit >= 0) caught.add(hit);
  else {
    falseCount++;
    const d = dayOf(onset);
    if (d >= 0 && d < DAYS) falseByDay[d]!++;
    if (falseSamples.length < 40) falseSamples.push(`day ${d} ${inc.service} ${new Date(onset).toISOString()} ${inc.signals.map((s) => `${s.metricName} ${s.direction} peak ${s.peakValue.toPrecision(4)} vs ${s.expected.toPrecision(4)}`).join(', ')}`);
  }
}
const metricDays = METRICS * DAYS;
const per1000 = (n: number, md: number): number => Math.round((n / md) * 1000 * 100) / 100;
for (const s of falseSamples) console.log(`false: ${s}`);
const missed = bursts.filter((_, i) => !caught.has(i));
for (const b of missed.slice(0, 10)) console.log(`missed burst: ${b.service} ${b.metric} at ${new Date(b.at).toISOString()}`);
console.log(`false incidents per day: ${falseByDay.join(' ')}`);
console.log(
  JSON.stringify({
    metrics: METRICS,
    days: DAYS,
    every: args.every,
    metric_days: metricDays,
    incidents: incidents.length,
    false_incidents: falseCount,
    false_incidents_per_1000_metric_days: per1000(falseCount, metricDays),
    false_per_1000_first_half: per1000(falseByDay.slice(0, Math.floor(DAYS / 2)).reduce((a, b) => a + b, 0), METRICS * Math.floor(DAYS / 2)),
    false_per_1000_second_half: per1000(falseByDay.slice(Math.floor(DAYS / 2)).reduce((a, b) => a + b, 0), METRICS * (DAYS - Math.floor(DAYS / 2))),
    bursts: bursts.length,
    burst_recall: Math.round((caught.size / Math.max(1, bursts.length)) * 1000) / 1000,
    harmless_deploys: deployments.length,
    wall_s: Math.round((performance.now() - t0) / 1000),
  }),
);
