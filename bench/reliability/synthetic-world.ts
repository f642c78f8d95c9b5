/**
 * A synthetic estate for the load figures: `metrics` simulated metrics spread over services of 20
 * metrics each, every service deployed by its own pipeline, optional bad deployments (healed by a
 * rollback) and one storm event that disturbs many metrics at once. Written as a real scenario and
 * policy file, so the pipeline runs exactly as the daemon would on them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import type { Announcement, Notifier } from '../../src/cloud/ports.js';
import { buildSimWorld, type SimWorld } from '../../src/compose.js';
import { ManualClock } from '../../src/core/clock.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';

export const METRICS_PER_SERVICE = 20;
export const START = '2026-11-02T08:00:00Z';

export interface EstateOptions {
  readonly metrics: number;
  /** Simulated length of the scenario. */
  readonly days: number;
  /** Poll interval on the simulated clock, e.g. '1m'. */
  readonly every: string;
  /** A bad deployment every this many simulated hours (0: none), rotating over the services. */
  readonly badDeployEveryH: number;
  /** A storm: this many metrics (from the first services on) disturbed at once at `stormAtMin`. */
  readonly stormMetrics?: number;
  readonly stormAtMin?: number;
}

const svcName = (i: number): string => `svc${String(i).padStart(3, '0')}`;

/** Writes scenario.yaml and policy.yaml into `dir`; returns the policy file. */
export function writeEstate(dir: string, o: EstateOptions): string {
  const services = Math.ceil(o.metrics / METRICS_PER_SERVICE);
  const scenarioServices: Record<string, unknown> = {};
  const policyServices: Record<string, unknown> = {};
  const metrics: unknown[] = [];
  for (let s = 0; s < services; s++) {
    const name = svcName(s);
    const ms: Record<string, unknown> = {};
    for (let m = 0; m < METRICS_PER_SERVICE && s * METRICS_PER_SERVICE + m < o.metrics; m++) {
      // Different levels and cycles per metric, so detectors see varied series.
      ms[`m${m}`] = { baseline: { level: 50 + ((s * 7 + m * 13) % 200), noise: 2 + ((s + m) % 5), daily: ((s + m) % 4) * 0.05 } };
      metrics.push({ id: `${name}m${m}`, service: name, namespace: 'Bench', metricName: `m${m}`, dimensions: { Service: name }, stat: 'Average', detector: { direction: 'up' } });
    }
    scenarioServices[name] = { metrics: ms };
    policyServices[name] = { pipelines: [`${name}-deploy`] };
  }
  const deployments: unknown[] = [];
  if (o.badDeployEveryH > 0) {
    for (let h = o.badDeployEveryH, k = 0; h < o.days * 24; h += o.badDeployEveryH, k++) {
      const service = svcName((k * 7) % services);
      deployments.push({
        id: `bad-${k}`,
        pipeline: `${service}-deploy`,
        service,
        at: `${h * 60}m`,
        revision: { id: `rev${k}`, summary: `release ${k}` },
        effects: [{ metric: 'm0', kind: 'add', value: 400, delay: '1m' }],
      });
    }
  }
  const events: unknown[] = [];
  if (o.stormMetrics) {
    const effects = [];
    for (let i = 0; i < o.stormMetrics; i++) {
      effects.push({ service: svcName(Math.floor(i / METRICS_PER_SERVICE)), metric: `m${i % METRICS_PER_SERVICE}`, kind: 'add', value: 500 });
    }
    events.push({ name: 'storm', at: `${o.stormAtMin ?? 10}m`, until: `${(o.stormAtMin ?? 10) + 120}m`, effects });
  }
  const scenario = { name: 'bench-estate', start: START, history: '3h', duration: `${o.days * 24 * 60 + 10}m`, seed: 11, services: scenarioServices, deployments, events };
  writeFileSync(join(dir, 'scenario.yaml'), stringify(scenario));

  const doc = parse(readFileSync('config/demo.yaml', 'utf8')) as Record<string, unknown> & { runbooks: { dir: string }; approval: Record<string, unknown>; safety: Record<string, unknown> };
  doc['cloud'] = { kind: 'sim', scenario: join(dir, 'scenario.yaml'), speed: 30 };
  doc.runbooks.dir = resolve('config', doc.runbooks.dir);
  doc['schedule'] = { every: o.every, window: '2h' };
  doc['store'] = { kind: 'sqlite', path: 'bench.db' };
  doc['services'] = policyServices;
  doc['metrics'] = metrics;
  doc.approval = { ...doc.approval, reminders: [] };
  delete doc.approval['escalation'];
  doc.safety = { ...doc.safety, maxActionsPerHour: 1000 };
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** Counts what the pipeline sends, per incident. */
export class CountingNotifier implements Notifier {
  readonly channel = 'bench';
  readonly sent: Announcement[] = [];
  async announce(a: Announcement): Promise<void> {
    this.sent.push(a);
  }
}

export interface Estate extends SimWorld {
  readonly policy: CompiledPolicy;
  readonly clock: ManualClock;
  readonly watcher: Watcher;
  readonly notifier: CountingNotifier;
  readonly storePath: string;
  /** One poll interval of simulated time, then one cycle. */
  step(): Promise<void>;
}

/** The pipeline on the estate, in this process, on a manual clock. */
export function openEstate(dir: string, policyFile: string): Estate {
  const policy = compilePolicy(loadPolicyFile(policyFile).policy, policyFile);
  const clock = new ManualClock(Date.parse(START));
  const notifier = new CountingNotifier();
  const storePath = join(dir, 'bench.db');
  const world = buildSimWorld(policy, { dataDir: dir, storePath, logger: pino({ level: 'silent' }), notifiers: [notifier], clock, publicUrl: 'http://127.0.0.1:0' });
  const watcher = new Watcher(world.deps);
  return {
    ...world,
    policy,
    clock,
    watcher,
    notifier,
    storePath,
    async step() {
      clock.advance(policy.pollEveryMs);
      await watcher.runCycle();
    },
  };
}
