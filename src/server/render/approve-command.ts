import type { Decision, Incident } from '../../incident/incident.js';

/** Approvers whose approval of the current runbook would still count: eligible, not excluded, not yet decided. */
export function canStillApprove(inc: Incident, decisions: readonly Decision[], eligible: Iterable<string>): string[] {
  const a = inc.approval;
  if (!a) return [];
  const decided = new Set(decisions.filter((d) => d.runbookHash === a.runbookHash).map((d) => d.approver));
  return [...eligible].filter((n) => !decided.has(n) && !a.excludedApprovers.includes(n)).sort();
}

/**
 * Commands that approve from a terminal, each runnable as pasted (issue 15 bug 5): in the demo one
 * command as the first demo approver who can still approve (the CLI knows the demo tokens); otherwise
 * one per approver who can still approve (each runs it with their own CLOUDOPS_TOKEN). Pure.
 */
export function approveCommands(command: (approver: string) => string, stillCan: readonly string[], demo: ReadonlySet<string>): string[] {
  const d = stillCan.find((n) => demo.has(n));
  return d !== undefined ? [command(d)] : stillCan.map(command);
}
