import { resolve, dirname } from 'node:path';
import type { MetricQuery } from '../cloud/ports.js';
import { parseDuration, type Millis } from '../core/time.js';
import type { ApprovalRules } from '../approval/quorum.js';
import type { Risk } from '../runbook/runbook.js';
import { expandPrincipals } from './cross-check.js';
import type { DetectorConfig, PolicyDoc } from './schema.js';

export interface WatchedMetric extends MetricQuery {
  readonly detector: DetectorConfig;
}

export type ParamValue = string | number | boolean;

/** One parameter rule of an allow-listed action, its pattern compiled once (anchored: the whole value must match). */
export interface CompiledParamRule {
  readonly required: boolean;
  /** The pattern as written in the policy, for messages; null when there is none. */
  readonly patternSource: string | null;
  readonly pattern: RegExp | null;
  readonly enum: readonly ParamValue[] | null;
  /** Numeric bounds (inclusive); null = none. */
  readonly min: number | null;
  readonly max: number | null;
}

/** An allow-listed action: its risk and its parameter rules (a parameter not listed is not allowed). */
export interface CompiledActionRule {
  readonly risk: Risk;
  readonly params: ReadonlyMap<string, CompiledParamRule>;
}

/** Who may approve at one risk level and how many must (groups expanded). */
export interface CompiledQuorum {
  readonly approvals: number;
  readonly eligible: ReadonlySet<string>;
}

/** The approval settings with durations in Millis and one rule set per risk. */
export interface CompiledApproval {
  readonly ttl: Millis;
  readonly reminders: readonly Millis[];
  readonly escalation: { readonly after: Millis; readonly to: ReadonlySet<string> } | null;
  readonly selfApproval: 'forbidden' | 'allowed';
  readonly byRisk: Readonly<Record<Risk, CompiledQuorum>>;
}

/** The safety settings every execution is checked against. */
export interface CompiledSafety {
  readonly killSwitch: boolean;
  readonly killSwitchParameter: string | null;
  readonly maxActionsPerHour: number;
}

/** A maintenance or freeze window as epoch milliseconds. */
export interface CompiledWindow {
  readonly name: string;
  readonly services: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly reason: string;
}

/** An account the daemon watches: the role it assumes there (null: its own credentials). */
export interface CompiledAccount {
  readonly name: string;
  /** The 12-digit account id; null for the single `account` of a policy without `accounts`. */
  readonly id: string | null;
  readonly roleArn: string | null;
  readonly externalId: string | null;
  /** cloud.kind: sim only: this account's scenario file (resolved), or null for cloud.scenario. */
  readonly scenarioFile: string | null;
}

/**
 * One unit of work a task leases (issue 16 item 5): one account in one region with its services and their
 * metrics. `lease` is null for a policy without `accounts`, whose one shard runs under the leader lease.
 */
export interface CompiledShard {
  /** `account/region`: the label in /metrics, logs and incidents. */
  readonly key: string;
  readonly lease: string | null;
  readonly account: CompiledAccount;
  readonly region: string;
  readonly services: readonly string[];
  readonly metrics: readonly WatchedMetric[];
}

/** The policy with defaults applied, durations in ms and file paths resolved: no optional knobs left. */
export interface CompiledPolicy {
  readonly doc: PolicyDoc;
  readonly file: string;
  readonly metrics: readonly WatchedMetric[];
  readonly pollEveryMs: number;
  readonly windowMs: number;
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly clearAfterMs: number;
  readonly lookbackMs: number;
  readonly ttlMs: number;
  readonly reminderMs: readonly number[];
  readonly escalation: { readonly afterMs: number; readonly to: ReadonlySet<string> } | null;
  readonly quorum: Readonly<Record<Risk, { readonly approvals: number; readonly eligible: ReadonlySet<string> }>>;
  readonly runbookDir: string;
  readonly scenarioFile: string | null;
  readonly storePath: string | null;
  // Compiled values (issue 9 item 6): read these instead of reaching into `doc`.
  readonly schedule: { readonly every: Millis; readonly window: Millis; readonly cron: string };
  readonly grouping: { readonly groupWait: Millis; readonly groupInterval: Millis; readonly clearAfter: Millis };
  readonly lookback: Millis;
  readonly approval: CompiledApproval;
  /** The allow-list with every pattern compiled once. */
  readonly actions: ReadonlyMap<string, CompiledActionRule>;
  readonly safety: CompiledSafety;
  readonly maintenance: readonly CompiledWindow[];
  readonly freezes: readonly CompiledWindow[];
  /** Every (account, region) this policy watches; one shard (the `account`) without an `accounts` list. */
  readonly shards: readonly CompiledShard[];
}

/** Compiles the allow-list once; patterns are anchored so a rule matches the whole value. */
export function compileActions(actions: PolicyDoc['actions']): ReadonlyMap<string, CompiledActionRule> {
  const out = new Map<string, CompiledActionRule>();
  for (const [name, a] of Object.entries(actions)) {
    const params = new Map<string, CompiledParamRule>();
    for (const [param, r] of Object.entries(a.params)) {
      params.set(param, {
        required: r.required,
        patternSource: r.pattern ?? null,
        pattern: r.pattern === undefined ? null : new RegExp(`^(?:${r.pattern})$`),
        enum: r.enum ?? null,
        min: r.min ?? null,
        max: r.max ?? null,
      });
    }
    out.set(name, { risk: a.risk, params });
  }
  return out;
}

const compileWindow = (w: PolicyDoc['maintenance'][number]): CompiledWindow => ({ name: w.name, services: w.services, start: Date.parse(w.start), end: Date.parse(w.end), reason: w.reason });

/** Resolves a path given in the policy relative to the policy file. */
const relative = (policyFile: string, p: string): string => resolve(dirname(policyFile), p);

export function compilePolicy(doc: PolicyDoc, file: string): CompiledPolicy {
  const metrics = doc.metrics.map((m): WatchedMetric => ({
    id: m.id,
    service: m.service,
    namespace: m.namespace ?? '',
    metricName: m.metricName ?? m.id,
    dimensions: m.dimensions,
    stat: m.stat,
    periodSec: m.period,
    ...(m.expression !== undefined ? { expression: m.expression } : {}),
    ...(m.unit !== undefined ? { unit: m.unit } : {}),
    detector: { ...doc.detection, ...(m.detector ?? {}) },
  }));
  const level = (r: Risk): { approvals: number; eligible: ReadonlySet<string> } => ({
    approvals: doc.approval.quorum[r].approvals,
    eligible: expandPrincipals(doc, doc.approval.quorum[r].from),
  });
  const quorum = { low: level('low'), medium: level('medium'), high: level('high') };
  return {
    doc,
    file,
    metrics,
    pollEveryMs: parseDuration(doc.schedule.every),
    windowMs: parseDuration(doc.schedule.window),
    groupWaitMs: parseDuration(doc.grouping.groupWait),
    groupIntervalMs: parseDuration(doc.grouping.groupInterval),
    clearAfterMs: parseDuration(doc.grouping.clearAfter),
    lookbackMs: parseDuration(doc.correlation.lookback),
    ttlMs: parseDuration(doc.approval.ttl),
    reminderMs: doc.approval.reminders.map(parseDuration),
    escalation: doc.approval.escalation
      ? { afterMs: parseDuration(doc.approval.escalation.after), to: expandPrincipals(doc, doc.approval.escalation.to) }
      : null,
    quorum,
    runbookDir: relative(file, doc.runbooks.dir),
    scenarioFile: doc.cloud.kind === 'sim' ? relative(file, doc.cloud.scenario) : null,
    storePath: doc.store.kind === 'sqlite' ? doc.store.path : null,
    schedule: { every: parseDuration(doc.schedule.every), window: parseDuration(doc.schedule.window), cron: doc.schedule.cron },
    grouping: { groupWait: parseDuration(doc.grouping.groupWait), groupInterval: parseDuration(doc.grouping.groupInterval), clearAfter: parseDuration(doc.grouping.clearAfter) },
    lookback: parseDuration(doc.correlation.lookback),
    approval: {
      ttl: parseDuration(doc.approval.ttl),
      reminders: doc.approval.reminders.map(parseDuration),
      escalation: doc.approval.escalation ? { after: parseDuration(doc.approval.escalation.after), to: expandPrincipals(doc, doc.approval.escalation.to) } : null,
      selfApproval: doc.approval.selfApproval,
      byRisk: quorum,
    },
    actions: compileActions(doc.actions),
    safety: { killSwitch: doc.safety.killSwitch, killSwitchParameter: doc.safety.killSwitchParameter ?? null, maxActionsPerHour: doc.safety.maxActionsPerHour },
    maintenance: doc.maintenance.map(compileWindow),
    freezes: doc.freezes.map(compileWindow),
    shards: compileShards(doc, file, metrics),
  };
}

/** The approval rules for a request at `risk`; escalation widens who may approve once it fired. */
export function approvalRules(p: CompiledPolicy, risk: Risk, escalated: boolean): ApprovalRules {
  const eligible = new Set(p.quorum[risk].eligible);
  if (escalated && p.escalation) p.escalation.to.forEach((a) => eligible.add(a));
  return { eligible, selfApproval: p.doc.approval.selfApproval, needed: p.quorum[risk].approvals };
}

/**
 * The shards of a policy. Lease names are `shard:<account id>:<region>:<n>`, n counting the entries that
 * name the same account id (one account split by services), so they do not change when entries of other
 * accounts are added, removed or reordered.
 */
export function compileShards(doc: PolicyDoc, file: string, metrics: readonly WatchedMetric[]): CompiledShard[] {
  if (!doc.accounts) {
    const account: CompiledAccount = { name: doc.account.name, id: null, roleArn: null, externalId: null, scenarioFile: null };
    return [{ key: `${doc.account.name}/${doc.account.region}`, lease: null, account, region: doc.account.region, services: Object.keys(doc.services), metrics }];
  }
  const ordinal = new Map<string, number>();
  return doc.accounts.flatMap((a) => {
    const n = ordinal.get(a.id) ?? 0;
    ordinal.set(a.id, n + 1);
    const account: CompiledAccount = { name: a.name, id: a.id, roleArn: a.roleArn ?? null, externalId: a.externalId ?? null, scenarioFile: a.scenario !== undefined ? relative(file, a.scenario) : null };
    const services = a.services === 'all' ? Object.keys(doc.services) : [...a.services];
    const held = new Set(services);
    return a.regions.map((region): CompiledShard => ({ key: `${a.name}/${region}`, lease: `shard:${a.id}:${region}:${n}`, account, region, services, metrics: metrics.filter((m) => held.has(m.service)) }));
  });
}
