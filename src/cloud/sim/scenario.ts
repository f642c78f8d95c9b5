import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * A scenario for the embedded simulated cloud: services with metric series and log lines, deployments
 * and other events that disturb them, and the ground truth. Times are offsets from the moment the
 * daemon's clock starts ("5m", "-30m"); `history` of data exists before it.
 */
const offset = z.string().regex(/^-?\d+(ms|s|m|h|d)$/, 'expected an offset such as 5m, -30m, 2h');
const dur = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 5m');

const baselineSchema = z.strictObject({
  level: z.number(),
  noise: z.number().min(0).default(0).describe('standard deviation of the noise'),
  daily: z.number().default(0).describe('amplitude of a daily cycle, as a fraction of level'),
  weekly: z.number().min(0).max(1).default(0).describe('weekend dip: the level falls by this fraction on Saturdays and Sundays (smoothly)'),
  min: z.number().default(0),
  spikes: z.number().min(0).max(1).default(0).describe('chance per point of a harmless one-point spike (noise)'),
});

const replaySchema = z.strictObject({
  csv: z.string().describe('timestamp,value CSV (NAB layout), relative to the scenario file'),
  scale: z.number().default(1),
});

const metricSchema = z.strictObject({
  baseline: baselineSchema.optional(),
  replay: replaySchema.optional(),
  gaps: z.array(z.strictObject({ from: offset, to: offset })).default([]),
});

const effectSchema = z.strictObject({
  service: z.string().optional().describe('defaults to the deployment\'s service'),
  metric: z.string(),
  kind: z.enum(['add', 'multiply', 'ramp']).default('add'),
  value: z.number().describe('add: amount; multiply: factor; ramp: amount added per minute'),
  max: z.number().optional().describe('ramp: cap on the added amount'),
  delay: dur.default('0s').describe('time from the cause to the onset'),
  stage: z.string().optional().describe('multi-stage deployments: the effect starts when this stage finishes (default: the first stage); it scales with the share of traffic live'),
  healedBy: z.enum(['rollback', 'restart', 'none']).default('rollback'),
  recovery: dur.default('1m').describe('time from the fix to normal'),
});

const logEffectSchema = z.strictObject({
  service: z.string().optional(),
  every: dur,
  message: z.string(),
  delay: dur.default('0s'),
  stage: z.string().optional().describe('multi-stage deployments: the lines start when this stage finishes'),
});

/** Baseline log lines that stop while the cause lasts (a crash loop silences the 200s). */
const silenceSchema = z.strictObject({
  service: z.string().optional(),
  match: z.string().min(1).describe('baseline log templates containing this text stop'),
  delay: dur.default('0s'),
});

/** One deploy stage of a multi-stage execution (canary, then full). */
const stageSchema = z.strictObject({
  name: z.string(),
  at: offset.describe('when this stage finished'),
  duration: dur.default('3m'),
  share: z.number().min(0).max(1).describe('share of the traffic running the new code once this stage finished'),
});

const deploymentSchema = z.strictObject({
  id: z.string(),
  pipeline: z.string(),
  service: z.string(),
  at: offset.optional().describe('when the deploy stage finished (with `stages`: the last stage\'s `at`)'),
  stages: z.array(stageSchema).default([]).describe('multi-stage executions, in order; omitted = one stage ending at `at`'),
  rollbackOf: z.string().optional().describe('this execution rolls back that deployment id: its rollback-healed effects end when this lands'),
  stageDuration: dur.default('3m'),
  stage: z.string().default('Deploy'),
  status: z.enum(['Succeeded', 'Failed', 'Stopped', 'InProgress']).default('Succeeded'),
  revision: z.strictObject({ id: z.string(), summary: z.string().default(''), url: z.string().optional() }),
  triggeredBy: z.string().default('webhook'),
  changeSize: z.int().optional(),
  effects: z.array(effectSchema).default([]),
  logs: z.array(logEffectSchema).default([]),
  silences: z.array(silenceSchema).default([]),
});

const eventSchema = z.strictObject({
  name: z.string(),
  at: offset,
  until: offset.optional(),
  effects: z.array(effectSchema.extend({ healedBy: z.enum(['rollback', 'restart', 'none']).default('none') })).default([]),
  logs: z.array(logEffectSchema).default([]),
  silences: z.array(silenceSchema).default([]),
});

export const scenarioSchema = z.strictObject({
  name: z.string(),
  description: z.string().default(''),
  start: z.iso.datetime({ offset: true }).default('2026-11-02T08:00:00Z').describe('when the daemon clock starts'),
  history: dur.default('3h'),
  duration: dur.default('40m'),
  seed: z.int().default(1),
  period: z.int().default(60),
  services: z.record(
    z.string(),
    z.strictObject({
      metrics: z.record(z.string(), metricSchema),
      logs: z.array(z.strictObject({ every: dur, message: z.string() })).default([]),
      /** The ECS tasks behind the service, for step previews (task count and Fargate size). */
      tasks: z
        .strictObject({ desired: z.int().min(0).max(5000), cpu: z.int().min(256).max(16384).default(256), memory: z.int().min(512).max(122880).default(512) })
        .optional(),
    }),
  ),
  deployments: z.array(deploymentSchema).default([]),
  events: z.array(eventSchema).default([]),
  truth: z
    .array(
      z.strictObject({
        service: z.string(),
        cause: z.string().describe('a deployment id, or "none"'),
        onset: offset,
        optional: z.boolean().default(false).describe('one incident or none: a missed one is not a miss, an opened one must blame `cause`'),
      }),
    )
    .default([]),
});

export type Scenario = z.output<typeof scenarioSchema> & { readonly file: string; readonly dir: string };
export type ScenarioEffect = z.output<typeof effectSchema>;
export type ScenarioDeployment = z.output<typeof deploymentSchema>;
export type ScenarioSilence = z.output<typeof silenceSchema>;

export class ScenarioError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ScenarioError';
  }
}

export function parseScenario(text: string, file: string): Scenario {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ScenarioError(file, `YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ScenarioError(file, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const s = parsed.data;
  const ids = new Set(s.deployments.map((d) => d.id));
  for (const d of s.deployments) {
    if (!s.services[d.service]) throw new ScenarioError(file, `deployment ${d.id}: unknown service "${d.service}"`);
    if ((d.at === undefined) === (d.stages.length === 0)) throw new ScenarioError(file, `deployment ${d.id}: give exactly one of at or stages`);
    if (d.rollbackOf !== undefined && !ids.has(d.rollbackOf)) throw new ScenarioError(file, `deployment ${d.id}: rollbackOf names unknown deployment "${d.rollbackOf}"`);
    const stageNames = new Set(d.stages.map((x) => x.name));
    for (const e of [...d.effects, ...d.logs]) {
      if (e.stage !== undefined && !stageNames.has(e.stage)) throw new ScenarioError(file, `deployment ${d.id}: unknown stage "${e.stage}"`);
    }
    for (const e of d.effects) {
      const svc = e.service ?? d.service;
      if (!s.services[svc]?.metrics[e.metric]) throw new ScenarioError(file, `deployment ${d.id}: unknown metric ${svc}/${e.metric}`);
    }
  }
  for (const [name, svc] of Object.entries(s.services)) {
    for (const [m, spec] of Object.entries(svc.metrics)) {
      if (!spec.baseline === !spec.replay) throw new ScenarioError(file, `services.${name}.metrics.${m}: give exactly one of baseline or replay`);
    }
  }
  return { ...s, file, dir: dirname(resolve(file)) };
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), file);
}
