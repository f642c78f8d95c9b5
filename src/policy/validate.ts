import { assertRunbooksRunnable, loadCatalog } from '../runbook/catalog.js';
import type { RunbookTemplate } from '../runbook/template.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { loadPolicyFile } from './load.js';

/**
 * What `cloudops validate` checks and `cloudops run` refuses to start without: the policy file
 * (schema, cross-references, bounds, safety written out for a real account) and every runbook
 * template it names, through the same draft gate a drafted runbook passes before approval.
 * Throws PolicyInvalidError listing every problem at FILE:LINE:COL.
 */
export function loadRunnablePolicy(file: string): { policy: CompiledPolicy; templates: RunbookTemplate[] } {
  const policy = compilePolicy(loadPolicyFile(file).policy, file);
  assertRunbooksRunnable(policy);
  return { policy, templates: loadCatalog(policy.runbookDir, policy.doc.actions) };
}

const minutes = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

/** The safety settings the daemon will run with, defaults applied, one line each (printed by validate). */
export function effectiveSafety(p: CompiledPolicy): string {
  const q = p.approval.byRisk;
  return [
    'effective safety settings:',
    `  cloud:               ${p.doc.cloud.kind}`,
    `  kill switch:         ${p.safety.killSwitch ? 'ON (nothing executes)' : 'off'}${p.safety.killSwitchParameter ? `, SSM parameter ${p.safety.killSwitchParameter}` : ', no SSM parameter'}`,
    `  max actions / hour:  ${p.safety.maxActionsPerHour}`,
    `  approval ttl:        ${minutes(p.approval.ttl)}`,
    `  quorum:              low ${q.low.approvals} of ${q.low.eligible.size}, medium ${q.medium.approvals} of ${q.medium.eligible.size}, high ${q.high.approvals} of ${q.high.eligible.size}`,
    `  self-approval:       ${p.approval.selfApproval}`,
    `  allow-listed:        ${[...p.actions.keys()].join(', ') || '(none)'}`,
  ].join('\n');
}
