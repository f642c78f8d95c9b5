import type { MetricQuery } from '../cloud/ports.js';
import { MINUTE, parseDuration, type EpochMs } from '../core/time.js';
import { actionViolation } from '../execute/action-policy.js';
import type { Incident } from '../incident/incident.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { PlanAnalysis } from '../runbook/planner.js';
import { maxRisk, runbookHash, type DraftedRunbook, type RunbookStep } from '../runbook/runbook.js';
import { insightsQuery, logsInsightsLink, metricConsoleLink, pipelineExecutionLink } from './links.js';
import type { Evidence, Gap, Proposal } from './proposal.js';
import { scrub, type FlaggedText } from './untrusted.js';

/** One piece of evidence as approvers see it: what was observed and where to look. */
export interface LinkedEvidence {
  readonly kind: Evidence['kind'];
  readonly label: string;
  readonly observation: string;
  readonly link: string | null;
  /** False when the reference is to nothing the policy or the tools know (an invented id). */
  readonly verified: boolean;
}

export interface RejectedStep {
  readonly action: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly reason: string;
}

/** Everything the agent wrote beyond the runbook itself: shown on the page and kept in the record. */
export interface AgentAnalysis {
  readonly hypothesis: string;
  readonly confidence: number;
  readonly evidence: readonly (readonly LinkedEvidence[])[];
  readonly verification: string | null;
  readonly gaps: readonly Gap[];
  readonly rejectedSteps: readonly RejectedStep[];
  readonly flagged: readonly FlaggedText[];
  readonly noSafeActionReasons: readonly string[];
}

export type DraftOutcome =
  | { readonly kind: 'drafted'; readonly runbook: DraftedRunbook; readonly analysis: AgentAnalysis }
  | { readonly kind: 'no_safe_action'; readonly reason: string; readonly analysis: AgentAnalysis }
  | { readonly kind: 'no_allowed_step'; readonly reason: string; readonly analysis: AgentAnalysis };

export interface DraftInput {
  readonly proposal: Proposal;
  readonly incident: Incident;
  readonly policy: CompiledPolicy;
  readonly modelId: string;
  readonly sessionId: string;
  /** Deployment ids the tools or the correlation showed the model. */
  readonly seenDeployments: ReadonlySet<string>;
  readonly flagged: readonly FlaggedText[];
  /** Gaps the loop itself observed (tool errors, budget cuts), merged with the model's. */
  readonly observedGaps: readonly Gap[];
}

const clean = (s: string): string => scrub(s, []);

/** Pure: links each evidence reference, marking references to unknown metrics, groups or deployments. */
export function linkEvidence(e: Evidence, incident: Incident, policy: CompiledPolicy, seen: ReadonlySet<string>): LinkedEvidence {
  const region = policy.doc.account.region;
  const around = (before: number, after: number) => ({ start: (incident.onsetAt - before * MINUTE) as EpochMs, end: (incident.onsetAt + after * MINUTE) as EpochMs });
  if (e.kind === 'metric') {
    const m: MetricQuery | undefined = policy.metrics.find((x) => x.id === e.metricId);
    return { kind: 'metric', label: `metric ${e.metricId}`, observation: clean(e.observation), link: m ? metricConsoleLink(region, m, around(30, 20)) : null, verified: Boolean(m) };
  }
  if (e.kind === 'log') {
    const known = new Set(Object.values(policy.doc.services).flatMap((s) => s.logGroups));
    const ok = e.logGroups.every((g) => known.has(g));
    const query = insightsQuery(e.filter, 50);
    return { kind: 'log', label: `logs ${e.logGroups.join(', ')}${e.filter ? ` matching "${clean(e.filter)}"` : ''}`, observation: clean(e.observation), link: ok ? logsInsightsLink(region, e.logGroups, query, around(e.minutesBefore, e.minutesAfter)) : null, verified: ok };
  }
  const pipeline = incident.correlation?.candidates.find((c) => c.deployment.id === e.deploymentId)?.deployment.pipeline;
  const ok = seen.has(e.deploymentId);
  return { kind: 'deployment', label: `deployment ${e.deploymentId}`, observation: clean(e.observation), link: ok && pipeline ? pipelineExecutionLink(region, pipeline, e.deploymentId) : null, verified: ok };
}

/**
 * Pure: turns the model's proposal into a runbook. Steps outside the allow-list or its parameter
 * bounds are dropped and listed as "rejected by policy"; with none left there is no runbook.
 */
export function buildDraft(d: DraftInput): DraftOutcome {
  const { proposal: p, policy } = d;
  const actions = policy.doc.actions;
  const steps: RunbookStep[] = [];
  const evidence: LinkedEvidence[][] = [];
  const rejectedSteps: RejectedStep[] = [];
  for (const s of p.steps) {
    const violation = actionViolation(actions, s);
    if (violation) {
      rejectedSteps.push({ action: s.action, params: s.params, reason: `rejected by policy: ${violation}` });
      continue;
    }
    steps.push({ action: s.action, params: s.params, description: clean(s.description), risk: actions[s.action]?.risk ?? 'high' });
    evidence.push(s.evidence.map((e) => linkEvidence(e, d.incident, policy, d.seenDeployments)));
  }
  const gaps = [...d.observedGaps, ...p.gaps];
  const analysis: AgentAnalysis = {
    hypothesis: clean(p.hypothesis),
    confidence: p.confidence,
    evidence,
    verification: p.verification ? clean(p.verification.description) : null,
    gaps,
    rejectedSteps,
    flagged: d.flagged,
    noSafeActionReasons: p.noSafeActionReasons.map(clean),
  };
  if (p.decision === 'no_safe_action') return { kind: 'no_safe_action', reason: `the agent found no safe action: ${analysis.noSafeActionReasons.join('; ')}`, analysis };
  if (steps.length === 0) return { kind: 'no_allowed_step', reason: `every step the agent proposed was rejected by policy (${rejectedSteps.map((r) => r.action).join(', ')})`, analysis };
  const verifySpec = p.verification ?? { within: '10m', healthyPolls: 3 };
  const draft = {
    templateId: 'agent',
    title: clean(p.title ?? `Agent runbook for ${d.incident.service}`).slice(0, 200),
    risk: maxRisk(steps.map((s) => s.risk)),
    steps,
    verify: { withinMs: parseDuration(verifySpec.within), healthyPolls: verifySpec.healthyPolls },
    body: renderAnalysis(analysis, steps, d.modelId, d.sessionId),
    draftedBy: d.modelId,
  };
  return { kind: 'drafted', runbook: { ...draft, hash: runbookHash(draft) }, analysis };
}

/** Markdown for approvers (page, Slack, email): hypothesis, evidence links, rejected steps, flags, gaps. */
export function renderAnalysis(a: AgentAnalysis, steps: readonly RunbookStep[], modelId: string, sessionId: string): string {
  const out: string[] = [
    `Drafted by the agent (model ${modelId}, session ${sessionId}). Nothing runs unless you approve it.`,
    '',
    `**Hypothesis** (confidence ${Math.round(a.confidence * 100)} %): ${a.hypothesis}`,
  ];
  if (steps.length > 0) {
    out.push('', '**Steps and their evidence**');
    steps.forEach((s, i) => {
      out.push(`${i + 1}. ${s.description}`);
      for (const e of a.evidence[i] ?? []) out.push(`   - ${e.link ? `[${e.label}](${e.link})` : e.label}${e.verified ? '' : ' (unverified reference)'}: ${e.observation}`);
    });
  }
  if (a.verification) out.push('', `**Verification**: ${a.verification}`);
  if (a.rejectedSteps.length > 0) {
    out.push('', '**Rejected by policy** (dropped from the runbook, shown for review)');
    for (const r of a.rejectedSteps) out.push(`- ${clean(r.action)} ${clean(JSON.stringify(r.params))}: ${r.reason}`);
  }
  if (a.flagged.length > 0) {
    out.push('', '**Text that tried to instruct the agent** (treated as evidence only)');
    for (const f of a.flagged.slice(0, 10)) out.push(`- from ${f.tool}: "${f.excerpt.replace(/\s+/g, ' ').slice(0, 200)}" (${f.rule})`);
  }
  if (a.gaps.length > 0) {
    out.push('', '**Investigation gaps** (what could not be checked)');
    for (const g of a.gaps.slice(0, 20)) out.push(`- ${g.what} — ${g.why.replace('_', ' ')}${g.detail ? `: ${g.detail}` : ''}`);
  }
  return out.join('\n');
}

/** Pure: the bounded part of the analysis that travels with the proposal to Slack and email. */
export function planAnalysisOf(a: AgentAnalysis): PlanAnalysis {
  const evidence = a.evidence.flatMap((es, i) => es.map((e) => ({ step: i + 1, kind: e.kind, label: e.label.slice(0, 200), observation: e.observation.slice(0, 300), link: e.link, verified: e.verified })));
  return { hypothesis: a.hypothesis.slice(0, 600), confidence: a.confidence, evidence: evidence.slice(0, 12), verification: a.verification?.slice(0, 300) ?? null };
}
