import type { PlanInvestigation } from '../runbook/planner.js';

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * The investigation of one agent run as `show ID --record` prints it: session and models, each
 * model call with its tokens, each tool call with its arguments and result size, what was flagged
 * or could not be checked, and the final answer. Pure; every value is already redacted and bounded.
 */
export function investigationLines(inv: PlanInvestigation): string[] {
  const out = [`  investigation ${inv.sessionId}: draft model ${inv.models.draft}${inv.models.triage ? `, triage model ${inv.models.triage}` : ''}; ${inv.steps} steps, ${inv.repairs} repairs, ${inv.summarizedToolResults} tool results summarized`];
  for (const c of inv.calls) out.push(`    call ${c.step} ${c.purpose} ${c.model}: ${c.input} in, ${c.output} out, ${c.cacheRead} cache read, ${c.cacheWrite} cache write, $${c.usd.toFixed(5)}, stop ${c.stopReason}${c.attempts > 1 ? `, ${c.attempts} attempts` : ''}`);
  for (const t of inv.toolCalls) out.push(`    tool ${t.step} ${t.name}(${clip(oneLine(t.args), 160)}) → ${t.status}, ${t.resultChars} characters${t.capped ? ', over the cap (replaced)' : ''}${t.flagged ? `, ${t.flagged} flagged` : ''}`);
  for (const f of inv.flagged) out.push(`    flagged from ${f.tool} (${f.rule}): "${clip(oneLine(f.excerpt), 200)}"`);
  for (const g of inv.gaps) out.push(`    gap: ${clip(oneLine(g.what), 120)}: ${g.why}${g.detail ? ` (${clip(oneLine(g.detail), 200)})` : ''}`);
  out.push(`    final answer: ${inv.finalAnswer === null || inv.finalAnswer === undefined ? 'none' : clip(JSON.stringify(inv.finalAnswer), 2000)}`);
  return out;
}
