import { resolve, dirname } from 'node:path';
import type { MetricQuery } from '../cloud/ports.js';
import { parseDuration } from '../core/time.js';
import type { ApprovalRules } from '../approval/quorum.js';
import type { Risk } from '../runbook/runbook.js';
import { expandPrincipals } from './cross-check.js';
import type { DetectorConfig, PolicyDoc } from './schema.js';

export interface WatchedMetric extends MetricQuery {
  readonly detector: DetectorConfig;
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
}

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
    quorum: { low: level('low'), medium: level('medium'), high: level('high') },
    runbookDir: relative(file, doc.runbooks.dir),
    scenarioFile: doc.cloud.kind === 'sim' ? relative(file, doc.cloud.scenario) : null,
    storePath: doc.store.kind === 'sqlite' ? doc.store.path : null,
  };
}

/** The approval rules for a request at `risk`; escalation widens who may approve once it fired. */
export function approvalRules(p: CompiledPolicy, risk: Risk, escalated: boolean): ApprovalRules {
  const eligible = new Set(p.quorum[risk].eligible);
  if (escalated && p.escalation) p.escalation.to.forEach((a) => eligible.add(a));
  return { eligible, selfApproval: p.doc.approval.selfApproval, needed: p.quorum[risk].approvals };
}
