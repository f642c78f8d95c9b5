/**
 * Warnings written on an approval request itself, so approvers know before they decide (issue 12 item 3):
 * a kill switch that will stop execution, shadow or dry-run mode that will not execute, a freeze, an
 * hourly budget nearly spent. Pure: the caller reads the switch and the counts.
 */
export interface RequestConditions {
  readonly killSwitchOn: boolean;
  readonly mode: 'live' | 'shadow' | 'dryRun';
  /** The freeze window in force for the service, by name, or null. */
  readonly freeze: string | null;
  readonly stepsLastHour: number;
  readonly maxActionsPerHour: number;
  /** Steps the runbook would start. */
  readonly steps: number;
}

/** The warnings that apply, in plain words; empty when none does. */
export function requestWarnings(c: RequestConditions): string[] {
  const out: string[] = [];
  if (c.killSwitchOn) out.push('WARNING: the kill switch is on — an approval will not execute until it is turned off');
  if (c.mode === 'shadow') out.push('WARNING: shadow mode — nothing will be executed; each step will show what would have run');
  if (c.mode === 'dryRun') out.push('WARNING: dry-run mode — the steps will only be previewed');
  if (c.freeze !== null) out.push(`WARNING: freeze "${c.freeze}" is active for this service`);
  const left = c.maxActionsPerHour - c.stepsLastHour;
  // "Nearly spent": this runbook would use the rest, or at most one action would be left after it.
  if (left < c.steps) out.push(`WARNING: the hourly action budget is spent or too small for this runbook (${c.stepsLastHour} of ${c.maxActionsPerHour} used, ${c.steps} needed)`);
  else if (left - c.steps <= 1) out.push(`WARNING: the hourly action budget is nearly spent (${c.stepsLastHour} of ${c.maxActionsPerHour} used in the last hour)`);
  return out;
}
