import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildSimWorld } from '../../compose.js';
import { ManualClock } from '../../core/clock.js';
import { parseDuration } from '../../core/time.js';
import type { StreamingDetector } from '../../detect/detector.js';
import type { Incident } from '../../incident/incident.js';
import type { CompiledPolicy, WatchedMetric } from '../../policy/compile.js';
import type { PolicyDoc } from '../../policy/schema.js';
import { Watcher } from '../../pipeline/watcher.js';
import type { AuditRecord } from '../../store/store.js';
import { loadScenario, type Scenario } from './scenario.js';

/** What one scenario run left behind: every incident and every audit record, on virtual time. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  /** Virtual time the daemon clock started at (the scenario's `start`). */
  readonly t0: number;
  readonly end: number;
  readonly incidents: readonly Incident[];
  readonly audit: readonly AuditRecord[];
}

export interface RunScenarioOptions {
  /** Replaces the pipeline's detector factory (e.g. to check a scenario against another detector). */
  readonly detectorFor?: (m: WatchedMetric) => StreamingDetector;
}

const idFor = (service: string, metric: string): string =>
  (service + metric).replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^a-z]+/, '').replace(/^./, (c) => c.toLowerCase()) || 'm';

/**
 * The policy with every service, pipeline, log group and metric the scenario uses: a scenario written
 * for another policy still runs (unknown metrics are watched with the policy's detection defaults).
 */
export function coverScenario(policy: CompiledPolicy, scenario: Scenario, file: string): CompiledPolicy {
  const services: PolicyDoc['services'] = structuredClone(policy.doc.services);
  const metrics: WatchedMetric[] = [...policy.metrics];
  for (const [svc, spec] of Object.entries(scenario.services)) {
    const s = (services[svc] ??= { pipelines: [], logGroups: [`/ecs/${svc}`], dependsOn: [] });
    for (const metricName of Object.keys(spec.metrics)) {
      if (metrics.some((m) => m.service === svc && m.metricName === metricName)) continue;
      let id = idFor(svc, metricName);
      while (metrics.some((m) => m.id === id)) id += '_';
      metrics.push({ id, service: svc, namespace: 'Sim', metricName, dimensions: {}, stat: 'Average', periodSec: scenario.period, detector: policy.doc.detection });
    }
    for (const d of scenario.deployments) if (d.service === svc && !s.pipelines.includes(d.pipeline)) s.pipelines.push(d.pipeline);
  }
  return { ...policy, doc: { ...policy.doc, services }, metrics, scenarioFile: file };
}

/**
 * Plays one scenario on the embedded simulated cloud with a manual clock: one poll cycle per
 * `schedule.every` from the scenario's start to the end of its duration. Nobody approves anything.
 */
export async function runScenario(policy: CompiledPolicy, file: string, opts: RunScenarioOptions = {}): Promise<ScenarioRun> {
  const scenario = loadScenario(file);
  const covered = coverScenario(policy, scenario, file);
  const t0 = Date.parse(scenario.start);
  const clock = new ManualClock(t0);
  const world = buildSimWorld(covered, {
    dataDir: join(tmpdir(), 'cloudops-scenario-unused'),
    storePath: ':memory:',
    logger: pino({ level: 'silent' }),
    notifiers: [],
    clock,
    publicUrl: 'http://127.0.0.1:0',
  });
  const deps = opts.detectorFor ? { ...world.deps, detectorFor: opts.detectorFor } : world.deps;
  const watcher = new Watcher(deps);
  const end = t0 + parseDuration(scenario.duration);
  try {
    for (let t = t0 + covered.pollEveryMs; t <= end; t += covered.pollEveryMs) {
      clock.set(t);
      await watcher.runCycle();
      if (watcher.lastError) throw new Error(`${file}: cycle failed: ${watcher.lastError}`);
    }
    const incidents = await world.store.listIncidents({ limit: 100_000 });
    const audit = await world.store.listAudit({ limit: 1_000_000 });
    return { scenario, t0, end, incidents: [...incidents].reverse(), audit };
  } finally {
    watcher.stop();
    await world.store.close();
  }
}
