import type { SimWorld } from '../../actions/action.js';
import { parseCall } from '../../actions/catalogue.js';
import type { Clock } from '../../core/clock.js';
import { PermanentError } from '../../core/errors.js';
import { parseDuration, type EpochMs } from '../../core/time.js';
import type {
  ActionCall,
  ActionCheck,
  ActionResult,
  ActionTarget,
  Deployment,
  DeploymentSource,
  LogQuery,
  LogRecord,
  LogSource,
  MetricQuery,
  MetricSeries,
  MetricSource,
  Preview,
  StepVerification,
  TimeRange,
} from '../ports.js';
import { renderLogTemplate } from './log-lines.js';
import { liveShare, rolloutStages, stageEnd, type RolloutStage } from './rollout.js';
import type { Scenario, ScenarioDeployment, ScenarioEffect, ScenarioSilence } from './scenario.js';
import { BaselineSeries } from './series.js';
import type { SimStateFile } from './sim-state.js';

const off = (s: string): number => (s.startsWith('-') ? -Number(parseDuration(s.slice(1))) : parseDuration(s));

interface Cause {
  readonly kind: 'deployment' | 'event';
  readonly id: string;
  readonly service: string;
  readonly pipeline?: string;
  /** When the cause took effect (first deploy stage finished, event began). */
  readonly at: number;
  readonly until?: number;
  /** Deploy stages (an event: one stage at `at` with all the traffic). */
  readonly stages: readonly RolloutStage[];
  readonly effects: readonly ScenarioEffect[];
  readonly logs: readonly { service?: string; every: string; message: string; delay: string; stage?: string }[];
  readonly silences: readonly ScenarioSilence[];
}

/**
 * The embedded simulated cloud: implements the metric, log, deployment and action ports over a scenario.
 * It shows only what has happened by `clock.now()`, and an action really changes what it shows next:
 * a rollback ends the effects of the deployments it undoes.
 */
export class SimCloud implements MetricSource, DeploymentSource, ActionTarget, SimWorld {
  readonly t0: number;
  /** No datapoint or log line exists before this (the scenario's `history`). */
  readonly historyStart: number;
  private readonly series = new Map<string, BaselineSeries>();
  private readonly causes: Cause[];
  /** Wall-clock latency of one action, so a crash can land in the middle of it (tests). */
  actionLatencyMs = 0;

  constructor(
    readonly scenario: Scenario,
    private readonly clock: Clock,
    private readonly state: SimStateFile,
  ) {
    this.t0 = Date.parse(scenario.start);
    this.historyStart = this.t0 - parseDuration(scenario.history);
    for (const [svc, s] of Object.entries(scenario.services)) {
      for (const [m, spec] of Object.entries(s.metrics)) this.series.set(`${svc}/${m}`, new BaselineSeries(scenario, svc, m, spec));
    }
    this.causes = [
      ...scenario.deployments.map((d): Cause => {
        const stages = rolloutStages(d, this.t0);
        return { kind: 'deployment', id: d.id, service: d.service, pipeline: d.pipeline, at: stageEnd(stages), stages, effects: d.effects, logs: d.logs, silences: d.silences };
      }),
      ...scenario.events.map((e): Cause => {
        const at = this.t0 + off(e.at);
        return {
          kind: 'event',
          id: e.name,
          service: '',
          at,
          ...(e.until ? { until: this.t0 + off(e.until) } : {}),
          stages: [{ name: 'event', startedAt: at, endedAt: at, share: 1 }],
          effects: e.effects,
          logs: e.logs,
          silences: e.silences,
        };
      }),
    ];
    // An action that was in flight when the daemon died finished in the cloud meanwhile.
    for (const a of state.data.actions) if (a.status === 'in_progress') this.apply(a.action, a.params, a.at, a);
  }

  /** How many times execute() was called with this idempotency key (repeats included). */
  executeCalls(key?: string): number {
    const calls = this.state.data.executeCalls;
    return key === undefined ? Object.values(calls).reduce((a, b) => a + b, 0) : (calls[key] ?? 0);
  }

  get actionLog(): readonly { key: string; action: string; status: string }[] {
    return this.state.data.actions;
  }

  // ---- MetricSource -------------------------------------------------------------------------

  async fetch(queries: readonly MetricQuery[], range: TimeRange, signal: AbortSignal): Promise<MetricSeries[]> {
    signal.throwIfAborted();
    const now = this.clock.now();
    return queries.map((q) => {
      const base = this.series.get(`${q.service}/${q.metricName}`);
      if (!base) return { id: q.id, points: [] };
      const period = q.periodSec * 1000;
      const gaps = this.scenario.services[q.service]?.metrics[q.metricName]?.gaps ?? [];
      const points: { t: EpochMs; v: number }[] = [];
      const first = Math.ceil(Math.max(range.start, this.historyStart) / period) * period;
      // A datapoint for [t, t+period) exists once its period is over.
      for (let t = first; t + period <= Math.min(range.end, now); t += period) {
        if (gaps.some((g) => t >= this.t0 + off(g.from) && t < this.t0 + off(g.to))) continue;
        points.push({ t: t as EpochMs, v: this.valueAt(q.service, q.metricName, base, t, period) });
      }
      return { id: q.id, points };
    });
  }

  private valueAt(service: string, metric: string, base: BaselineSeries, t: number, period: number): number {
    let v = base.valueAt(t, Math.floor((t - this.t0) / period));
    for (const c of this.causes) {
      for (const e of c.effects) {
        if ((e.service ?? c.service) !== service || e.metric !== metric) continue;
        const onset = stageEnd(c.stages, e.stage) + parseDuration(e.delay);
        if (t < onset || !this.effectActive(c, e, onset, t)) continue;
        // A rollout's effect reaches only the share of traffic already on the new code.
        const share = liveShare(c.stages, t);
        if (e.kind === 'add') v += e.value * share;
        else if (e.kind === 'multiply') v *= 1 + (e.value - 1) * share;
        else v += share * Math.min(e.max ?? Infinity, (e.value * (t - onset)) / 60_000);
      }
    }
    return v;
  }

  private effectActive(c: Cause, e: ScenarioEffect, onset: number, t: number): boolean {
    if (c.until !== undefined && t >= c.until) return false;
    const recovery = parseDuration(e.recovery);
    if (e.healedBy === 'rollback') {
      const rb = this.rolledBackAt(c.id);
      if (rb !== undefined && t >= rb + recovery) return false;
    }
    if (e.healedBy === 'restart') {
      const svc = e.service ?? c.service;
      const fix = (this.state.data.restarts[svc] ?? []).find((r) => r >= onset - recovery);
      if (fix !== undefined && t >= fix + recovery) return false;
    }
    return true;
  }

  /** When a deployment was rolled back: by an action of the daemon, or by a rollback execution of the scenario. */
  private rolledBackAt(id: string): number | undefined {
    const byAction = this.state.data.rolledBack[id];
    const byScenario = this.causes.find((c) => c.kind === 'deployment' && this.scenario.deployments.some((d) => d.id === c.id && d.rollbackOf === id));
    const times = [byAction, byScenario?.at].filter((x): x is number => x !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Whether a baseline log template of `service` is silenced at `t` (a crash loop stops the 200s). */
  private silenced(service: string, message: string, t: number): boolean {
    return this.causes.some((c) =>
      c.silences.some((s) => {
        if ((s.service ?? c.service) !== service || !message.includes(s.match)) return false;
        const from = c.at + parseDuration(s.delay);
        const to = Math.min(c.until ?? Infinity, this.rolledBackAt(c.id) ?? Infinity);
        return t >= from && t < to;
      }),
    );
  }

  // ---- LogSource ----------------------------------------------------------------------------

  /** LogSource.fetch is named `fetch` on the port; the sim exposes it through `logSource`. */
  readonly logSource: LogSource = { fetch: (q, s) => this.logs(q, s) };

  private async logs(query: LogQuery, signal: AbortSignal): Promise<LogRecord[]> {
    signal.throwIfAborted();
    const end = Math.min(query.range.end, this.clock.now());
    const out: LogRecord[] = [];
    const filter = query.filter?.toLowerCase();
    for (const group of query.groups) {
      const service = group.split('/').pop() ?? group;
      const svc = this.scenario.services[service];
      if (!svc) continue;
      const gens: { every: number; message: string; from: number; to: number; key: string; base: boolean }[] = svc.logs.map((l, i) => ({
        every: parseDuration(l.every), message: l.message, from: this.historyStart, to: Infinity, key: `${service}#${i}`, base: true,
      }));
      for (const c of this.causes) {
        c.logs.forEach((l, i) => {
          if ((l.service ?? c.service) !== service) return;
          const from = stageEnd(c.stages, l.stage) + parseDuration(l.delay);
          const rb = this.rolledBackAt(c.id);
          const to = Math.min(c.until ?? Infinity, rb ?? Infinity);
          gens.push({ every: parseDuration(l.every), message: l.message, from, to, key: `${c.id}#${i}`, base: false });
        });
      }
      for (const g of gens) {
        const start = Math.max(query.range.start, g.from);
        const stop = Math.min(end, g.to);
        for (let t = Math.ceil(start / g.every) * g.every; t < stop; t += g.every) {
          if (g.base && this.silenced(service, g.message, t)) continue;
          const message = renderLogTemplate(g.message, this.scenario.seed, g.key, t);
          if (filter && !message.toLowerCase().includes(filter)) continue;
          out.push({ t: t as EpochMs, group, message });
        }
      }
    }
    out.sort((a, b) => a.t - b.t);
    return out.slice(-query.limit);
  }

  // ---- DeploymentSource ---------------------------------------------------------------------

  async list(pipelines: readonly string[], range: TimeRange, signal: AbortSignal): Promise<Deployment[]> {
    signal.throwIfAborted();
    const now = this.clock.now();
    const out: Deployment[] = [];
    for (const d of this.scenario.deployments) {
      if (!pipelines.includes(d.pipeline)) continue;
      const stages = rolloutStages(d, this.t0);
      const deployEnd = stages[stages.length - 1]?.endedAt ?? 0;
      const deployStart = stages[0]?.startedAt ?? deployEnd;
      const started = deployStart - 120_000;
      if (started > now || deployEnd < range.start || started > range.end) continue;
      const done = deployEnd <= now;
      const current = [...stages].reverse().find((s) => s.startedAt <= now) ?? stages[0];
      out.push({
        id: d.id,
        pipeline: d.pipeline,
        pipelineType: 'V2',
        status: done ? d.status : 'InProgress',
        startedAt: started as EpochMs,
        ...(done ? { endedAt: deployEnd as EpochMs, deployEndedAt: deployEnd as EpochMs } : {}),
        deployStage: d.stages.length > 0 ? (current?.name ?? d.stage) : d.stage,
        deployStartedAt: deployStart as EpochMs,
        ...(d.stages.length > 0
          ? {
              stages: stages
                .filter((s) => s.startedAt <= now)
                .map((s) => ({ name: s.name, startedAt: s.startedAt as EpochMs, ...(s.endedAt <= now ? { endedAt: s.endedAt as EpochMs } : {}), share: s.share })),
            }
          : {}),
        ...(d.rollbackOf !== undefined ? { rollbackOf: d.rollbackOf, triggerType: 'RollbackExecution' } : {}),
        triggeredBy: d.triggeredBy,
        revisionId: d.revision.id,
        revisionSummary: d.revision.summary,
        ...(d.revision.url ? { revisionUrl: d.revision.url } : {}),
        ...(d.changeSize !== undefined ? { changeSize: d.changeSize } : {}),
      });
    }
    for (const r of this.state.data.rollbackExecutions) {
      if (!pipelines.includes(r.pipeline) || r.at > now || r.at < range.start) continue;
      out.push({ id: r.id, pipeline: r.pipeline, pipelineType: 'V2', status: 'Succeeded', startedAt: r.at as EpochMs, endedAt: r.at as EpochMs, deployStartedAt: r.at as EpochMs, deployEndedAt: r.at as EpochMs, deployStage: 'Deploy', triggeredBy: 'cloudops-watcher', triggerType: 'AutomatedRollback', rollbackOf: r.rollbackOf });
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  // ---- ActionTarget -------------------------------------------------------------------------

  async execute(call: ActionCall, key: string, signal: AbortSignal): Promise<ActionResult> {
    signal.throwIfAborted();
    const data = this.state.data;
    data.executeCalls[key] = (data.executeCalls[key] ?? 0) + 1;
    const prior = data.actions.find((a) => a.key === key);
    if (prior && prior.status !== 'in_progress') {
      this.state.save();
      return { ok: prior.status === 'done', summary: `already done: ${prior.summary}` };
    }
    const rec = { key, action: call.action, params: call.params, at: this.clock.now(), status: 'in_progress' as const, summary: '' };
    data.actions.push(rec);
    this.state.save();
    if (this.actionLatencyMs > 0) await new Promise((r) => setTimeout(r, this.actionLatencyMs));
    const result = this.apply(call.action, call.params, rec.at, rec);
    this.state.save();
    return result;
  }

  async check(_call: ActionCall, key: string, signal: AbortSignal): Promise<ActionCheck> {
    signal.throwIfAborted();
    const a = this.state.data.actions.find((x) => x.key === key);
    if (!a) return 'not_started';
    return a.status === 'in_progress' ? 'in_progress' : 'done';
  }

  /** The catalogue action's own sim verify (read-only) over the remembered state, else the recorded call's answer. */
  async verify(call: ActionCall, key: string, signal: AbortSignal): Promise<StepVerification> {
    signal.throwIfAborted();
    const rec = this.state.data.actions.find((x) => x.key === key);
    if (!rec || rec.status !== 'done') return { ok: false, detail: `the simulated cloud has no finished call for ${key}` };
    const parsed = parseCall(call);
    if (!parsed.ok) return { ok: false, detail: parsed.problems.map((p) => p.message).join('; ') };
    const a = parsed.entry.action;
    return a.simVerify ? a.simVerify(this, parsed.params, this.clock.now()) : { ok: true, detail: rec.summary };
  }

  /** The catalogue action's own sim preview (read-only), or one from its parameters. */
  async preview(call: ActionCall, signal: AbortSignal): Promise<Preview> {
    signal.throwIfAborted();
    const parsed = parseCall(call);
    if (!parsed.ok) throw new PermanentError(`the simulated cloud cannot preview ${call.action}: ${parsed.problems.map((p) => p.message).join('; ')}`);
    const a = parsed.entry.action;
    if (a.simPreview) return a.simPreview(this, parsed.params, this.clock.now());
    return { summary: a.describe(parsed.params), changes: [], resources: a.resources(parsed.params), source: 'parameters' };
  }

  /** The catalogue action's own sim effect (src/actions): no per-action switch lives here. */
  private apply(action: string, params: ActionCall['params'], at: number, rec: { status: string; summary: string }): ActionResult {
    const parsed = parseCall({ action, params });
    if (!parsed.ok) {
      rec.status = 'failed';
      throw new PermanentError(`the simulated cloud cannot run ${action}: ${parsed.problems.map((p) => p.message).join('; ')}`);
    }
    const result = parsed.entry.action.sim(this, parsed.params, at);
    rec.status = result.ok ? 'done' : 'failed';
    rec.summary = result.summary;
    return result;
  }

  // ---- SimWorld (what the catalogue's sim effects change) -------------------------------------

  /** The deployments of `pipeline` a rollback to `target` (default: the execution before the latest) undoes. */
  private pipelineUndo(pipeline: string, target: string | undefined, at: number): ScenarioDeployment[] {
    const deployed = this.scenario.deployments.filter((d) => d.pipeline === pipeline && (rolloutStages(d, this.t0)[0]?.endedAt ?? Infinity) <= at);
    const targetIdx = target ? deployed.findIndex((d) => d.id === target) : deployed.length - 2;
    return deployed.slice(targetIdx + 1);
  }

  /** The newest deployment of `service` not yet rolled back. */
  private serviceUndo(service: string, at: number): ScenarioDeployment | undefined {
    const deployed = this.scenario.deployments.filter((d) => d.service === service && (rolloutStages(d, this.t0)[0]?.endedAt ?? Infinity) <= at && this.state.data.rolledBack[d.id] === undefined);
    return deployed[deployed.length - 1];
  }

  rollbackPipeline(pipeline: string, target: string | undefined, at: number): ActionResult {
    const data = this.state.data;
    const undone = this.pipelineUndo(pipeline, target, at);
    if (undone.length === 0) return { ok: false, summary: `nothing to roll back on ${pipeline}` };
    for (const d of undone) data.rolledBack[d.id] ??= at;
    const id = `rollback-${undone[undone.length - 1]?.id ?? ''}`;
    data.rollbackExecutions.push({ id, pipeline, at, rollbackOf: undone.map((d) => d.id).join(',') });
    return { ok: true, summary: `rolled back ${pipeline} to ${target ?? 'the previous execution'} (undid ${undone.map((d) => d.id).join(', ')})`, refs: { pipelineExecutionId: id } };
  }

  rollbackService(service: string, at: number): ActionResult {
    const data = this.state.data;
    const last = this.serviceUndo(service, at);
    if (!last) return { ok: false, summary: `no deployment of ${service} to roll back` };
    data.rolledBack[last.id] = at;
    return { ok: true, summary: `rolled ${service} back to the version before ${last.id}` };
  }

  restartService(service: string, at: number): void {
    (this.state.data.restarts[service] ??= []).push(at);
  }

  // The state below is what a real account would answer a later read with; the scenario's deployments
  // are fixed data, so a freeze or a stop changes what the next preview and check read, not the series.

  scaleService(service: string, desired: number): void {
    this.state.data.desiredCounts[service] = desired;
  }

  setTransition(pipeline: string, stage: string, enabled: boolean, at: number): void {
    this.state.data.transitions[`${pipeline}/${stage}`] = { enabled, at };
  }

  transitionEnabled(pipeline: string, stage: string): boolean {
    return this.state.data.transitions[`${pipeline}/${stage}`]?.enabled ?? true;
  }

  stopExecution(pipeline: string, executionId: string, at: number): void {
    this.state.data.stoppedExecutions[`${pipeline}/${executionId}`] ??= at;
  }

  executionStoppedAt(pipeline: string, executionId: string): number | undefined {
    return this.state.data.stoppedExecutions[`${pipeline}/${executionId}`];
  }

  serviceTasks(service: string): { desired: number; vcpu: number; memoryGb: number } | null {
    const t = this.scenario.services[service]?.tasks;
    return t ? { desired: this.state.data.desiredCounts[service] ?? t.desired, vcpu: t.cpu / 1024, memoryGb: t.memory / 1024 } : null;
  }

  wouldUndo(scope: { readonly pipeline: string; readonly target: string | undefined } | { readonly service: string }, at: number): readonly string[] {
    if ('pipeline' in scope) return this.pipelineUndo(scope.pipeline, scope.target, at).map((d) => d.id);
    const last = this.serviceUndo(scope.service, at);
    return last ? [last.id] : [];
  }
}
