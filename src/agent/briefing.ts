import { iso } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import { describeTrigger } from '../incident/lifecycle.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { RunbookTemplate } from '../runbook/template.js';
import { allowedLogGroups } from './tools/logs-query.js';
import { servicesInScope, type ToolContext } from './tools/tool.js';
import { fence, sanitizeValue, type FlaggedText } from './untrusted.js';

/**
 * What every run under this policy is told, whatever the incident: the allowed actions and their
 * parameter rules, what the tools can read, the runbook catalog. Trusted policy facts, stated plainly.
 * It goes into the system block, before its cache checkpoint, so the cached prefix (tools, system
 * prompt, this) is the same for every incident of the policy and a later incident reads it from the
 * cache instead of writing it again.
 */
export function policyBriefing(policy: CompiledPolicy, templates: readonly RunbookTemplate[]): string {
  const groups = [...new Set(Object.values(policy.doc.services).flatMap((s) => s.logGroups))];
  return [
    '## Allowed actions (the only steps a runbook may contain)',
    ...actionLines(policy),
    '',
    '## What the tools can read (only for the services in scope of the incident)',
    `- metrics (get_metric_series metricId): ${policy.metrics.map((m) => `${m.id} (${m.service}: ${m.metricName} ${m.stat})`).join(', ') || 'none'}`,
    `- log groups (query_logs): ${groups.join(', ') || 'none'}`,
    '',
    '## Runbook catalog (fetch_runbook id)',
    ...catalogLines(templates),
  ].join('\n');
}

/**
 * The first user message of a run: the incident. Which services, metrics and log groups are in scope
 * is stated plainly; facts that came from the watched systems (deployment summaries, log samples,
 * correlation reasons) are fenced as data. The policy's facts are in `policyBriefing`.
 */
export function briefing(ctx: ToolContext, redactPatterns: readonly RegExp[]): { text: string; flags: FlaggedText[] } {
  const { incident, policy } = ctx;
  const facts = incidentFacts(incident);
  const clean = sanitizeValue(facts, redactPatterns);
  const flags = clean.flags.map((f) => ({ ...f, tool: 'briefing', toolUseId: '' }));
  const scope = servicesInScope(ctx);
  const text = [
    `# Incident ${incident.id} on service ${incident.service}`,
    '',
    `- services in scope: ${scope.join(', ')}`,
    `- their metrics: ${policy.metrics.filter((m) => scope.includes(m.service)).map((m) => m.id).join(', ') || 'none'}`,
    `- their log groups: ${allowedLogGroups(ctx).join(', ') || 'none'}`,
    '',
    '## What the watcher saw',
    fence('watcher', JSON.stringify(clean.value, null, 1)),
  ].join('\n');
  return { text, flags };
}

/** The short briefing for triage: no tool lists, the watcher's facts and the applicable templates. */
export function triageBriefing(ctx: ToolContext, applicable: readonly RunbookTemplate[], redactPatterns: readonly RegExp[]): string {
  const clean = sanitizeValue(incidentFacts(ctx.incident), redactPatterns);
  return [
    `# Incident ${ctx.incident.id} on service ${ctx.incident.service}`,
    '## Templates that apply',
    ...(applicable.length > 0 ? catalogLines(applicable) : ['- none']),
    '## What the watcher saw',
    fence('watcher', JSON.stringify(clean.value)),
  ].join('\n');
}

function actionLines(policy: CompiledPolicy): string[] {
  return Object.entries(policy.doc.actions).map(([name, a]) => {
    const params = Object.entries(a.params).map(([k, p]) => `${k}${p.required ? '' : '?'}${p.pattern !== undefined ? ` /${p.pattern}/` : ''}${p.enum ? ` one of ${JSON.stringify(p.enum)}` : ''}`);
    return `- ${name} (risk ${a.risk}): ${a.description ?? ''} — params: ${params.join(', ') || 'none'}`;
  });
}

function catalogLines(templates: readonly RunbookTemplate[]): string[] {
  return templates.map((t) => `- ${t.id}: ${t.title} (suspect ${t.applies.suspect}; actions ${t.steps.map((s) => s.action).join(', ')})`);
}

function incidentFacts(i: Incident): Record<string, unknown> {
  const s = i.correlation?.suspect;
  return {
    onset: iso(i.onsetAt),
    signals: i.signals.map((x) => ({ metricId: x.metricId, metric: x.metricName, direction: x.direction, startedAt: iso(x.startedAt), peak: Number(x.peakValue.toPrecision(4)), expected: Number(x.expected.toPrecision(4)), cleared: x.clearedAt !== null })),
    correlation: i.correlation
      ? {
          verdict: i.correlation.verdict,
          suspect: s
            ? { id: s.deployment.id, pipeline: s.deployment.pipeline, deployStage: s.deployment.deployStage, revisionId: s.deployment.revisionId, revisionSummary: s.deployment.revisionSummary?.slice(0, 300), triggeredBy: s.deployment.triggeredBy, previousExecutionId: s.previousExecutionId ?? null, reasons: s.reasons }
            : null,
          otherCandidates: i.correlation.candidates.filter((c) => c.deployment.id !== s?.deployment.id).slice(0, 3).map((c) => ({ id: c.deployment.id, pipeline: c.deployment.pipeline, score: Number(c.score.toFixed(3)) })),
        }
      : null,
    // A re-draft: the version it replaces and why (an approver's words or new evidence — data, like the rest).
    ...(i.redraft
      ? { redraftOf: {
          version: i.redraft.previous.version,
          why: describeTrigger(i.redraft.trigger).slice(0, 500),
          steps: i.redraft.previous.steps.map((st) => ({ action: st.action, params: st.params })),
          note: 'draft a new version that answers why the previous one was replaced; repeating the same steps after a reject is not asked again',
        } }
      : {}),
    logEvidence: i.evidence
      ? { groups: i.evidence.groups, templates: i.evidence.templates.slice(0, 5).map((t) => ({ template: t.template.slice(0, 300), baseline: t.baselineCount, onset: t.onsetCount, isNew: t.isNew })) }
      : null,
  };
}
