import type { Incident } from '../incident/incident.js';
import type { PlanEvidence } from '../runbook/planner.js';

/**
 * The agent's case for its runbook as approvers read it away from the page (Slack, email): the
 * hypothesis with its confidence, the evidence each step rests on with the console link the watcher
 * built for it, how recovery is checked, and what the agent could not check. Pure. Null when the
 * current runbook was not drafted by the agent. Every text here came from a model or a tool result,
 * so each renderer escapes it for its own medium; links are the watcher's own (CloudWatch, Logs
 * Insights, CodePipeline console), never a model's.
 */
export interface AnalysisView {
  readonly hypothesis: string;
  readonly confidencePct: number;
  readonly evidence: readonly PlanEvidence[];
  readonly verification: string | null;
  readonly gaps: readonly string[];
  /** Evidence items left out to keep the message short. */
  readonly moreEvidence: number;
}

export function analysisView(i: Incident, maxEvidence = 6, maxGaps = 5): AnalysisView | null {
  const inv = i.plan?.planner === 'agent' ? i.plan.investigation : undefined;
  const a = inv?.analysis;
  if (!a || !i.runbook) return null;
  const gaps = inv.gaps.slice(0, maxGaps).map((g) => `${g.what} — ${g.why.replace(/_/g, ' ')}${g.detail ? `: ${g.detail}` : ''}`);
  return {
    hypothesis: a.hypothesis,
    confidencePct: Math.round(a.confidence * 100),
    evidence: a.evidence.slice(0, maxEvidence),
    verification: a.verification,
    gaps,
    moreEvidence: Math.max(0, a.evidence.length - maxEvidence),
  };
}
