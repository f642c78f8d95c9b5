import type { Incident } from '../incident/incident.js';
import type { ActionAllowList } from '../execute/action-policy.js';
import { parseDuration } from '../core/time.js';
import { maxRisk, runbookHash, type CompensatingStep, type DraftedRunbook, type Risk, type RunbookStep } from './runbook.js';
import type { RunbookTemplate } from './template.js';
import { plainTrace, type PlanResult, type Planner } from './planner.js';


/** Values a template may use as {{placeholders}}: ids and names only, never free text from logs or commits. */
export function templateValues(incident: Incident): Record<string, string> {
  const v: Record<string, string> = { 'incident.id': incident.id, service: incident.service };
  const s = incident.correlation?.suspect;
  if (s) {
    v['suspect.id'] = s.deployment.id;
    v['suspect.pipeline'] = s.deployment.pipeline;
    if (s.deployment.deployStage) v['suspect.deployStage'] = s.deployment.deployStage;
    if (s.deployment.revisionId) v['suspect.revisionId'] = s.deployment.revisionId;
    if (s.previousExecutionId) v['suspect.previousExecutionId'] = s.previousExecutionId;
  }
  return v;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z.]+)\s*\}\}/g;

/** Fills placeholders; returns null when one has no value (the template does not fit). */
export function fill(text: string, values: Readonly<Record<string, string>>): string | null {
  let missing = false;
  const out = text.replace(PLACEHOLDER, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? null : out;
}

/** Fills every string parameter; null when a placeholder has no value. */
function fillParams(raw: Readonly<Record<string, string | number | boolean>>, values: Readonly<Record<string, string>>): Record<string, string | number | boolean> | null {
  const params: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(raw)) {
    const filled = typeof v === 'string' ? fill(v, values) : v;
    if (filled === null) return null;
    params[k] = filled;
  }
  return params;
}

function applies(t: RunbookTemplate, incident: Incident): boolean {
  const hasSuspect = Boolean(incident.correlation?.suspect);
  if (t.applies.suspect === 'required' && !hasSuspect) return false;
  if (t.applies.suspect === 'none' && hasSuspect) return false;
  if (t.applies.services.length > 0 && !t.applies.services.includes(incident.service)) return false;
  if (t.applies.directions.length > 0 && !incident.signals.some((s) => t.applies.directions.includes(s.direction))) return false;
  return true;
}

/** Instantiates one template for an incident, or null when a placeholder cannot be filled. */
export function instantiate(t: RunbookTemplate, incident: Incident, actions: ActionAllowList): DraftedRunbook | null {
  const values = templateValues(incident);
  const steps: RunbookStep[] = [];
  for (const s of t.steps) {
    const params = fillParams(s.params, values);
    const description = fill(s.description, values);
    if (params === null || description === null) return null;
    const risk: Risk = actions[s.action]?.risk ?? 'high';
    let compensate: CompensatingStep | undefined;
    if (s.compensate) {
      const cParams = fillParams(s.compensate.params, values);
      const cDescription = fill(s.compensate.description, values);
      if (cParams === null || cDescription === null) return null;
      compensate = { action: s.compensate.action, params: cParams, description: cDescription };
    }
    steps.push({ action: s.action, params, description, risk, ...(compensate ? { compensate } : {}) });
  }
  const title = fill(t.title, values) ?? t.title;
  const body = fill(t.body, values) ?? t.body;
  const draft = {
    templateId: t.id,
    title,
    // The quorum covers what may run: a compensation riskier than its step raises the runbook's risk.
    risk: maxRisk(steps.flatMap((s) => [s.risk, ...(s.compensate ? [actions[s.compensate.action]?.risk ?? 'high'] : [])])),
    steps,
    verify: { withinMs: parseDuration(t.verify.within), healthyPolls: t.verify.healthyPolls },
    body,
    draftedBy: 'template',
  };
  return { ...draft, hash: runbookHash(draft) };
}

/** Picks the highest-priority template that applies and can be filled. */
export class TemplatePlanner implements Planner {
  readonly kind = 'template';
  constructor(
    private readonly templates: readonly RunbookTemplate[],
    private readonly actions: ActionAllowList,
  ) {}

  async draft(incident: Incident): Promise<PlanResult> {
    const ordered = [...this.templates].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    for (const t of ordered) {
      if (!applies(t, incident)) continue;
      const r = instantiate(t, incident, this.actions);
      if (r) return { kind: 'drafted', runbook: r, trace: plainTrace(this.kind) };
    }
    return { kind: 'none', reason: 'no runbook template applies to this incident', trace: plainTrace(this.kind) };
  }
}
