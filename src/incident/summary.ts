import type { Correlation, LogEvidence } from './incident.js';

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * One line with what an approver needs before opening the page: the suspect and its strongest
 * reasons (or why there is none) and the most telling log template. Goes into the incident's reason,
 * which every notifier (console, SNS …) shows as the announcement text. Pure.
 */
export function proposalSummary(c: Correlation | null, e: LogEvidence | null): string {
  const parts: string[] = [];
  if (c?.suspect) {
    const d = c.suspect.deployment;
    // The first reason says which pipeline deploys what; the second, when it landed.
    parts.push(`suspect ${d.pipeline} ${d.id.slice(0, 8)}${d.revisionSummary ? ` "${clip(d.revisionSummary, 60)}"` : ''}: ${c.suspect.reasons.slice(0, 2).join('; ')}`);
  } else if (c) parts.push(`no suspect (${c.verdict.replace(/^no deployment explains this: /, '')})`);
  const t = e?.templates[0];
  if (t) parts.push(`logs: ${t.isNew ? 'new' : 'growing'} "${clip(t.template, 80)}" (${t.baselineCount} → ${t.onsetCount})`);
  return clip(parts.join(' — '), 600);
}
