import { describe, expect, it } from 'vitest';
import { Watcher } from '../../src/pipeline/watcher.js';
import { checkDraft } from '../../src/runbook/draft-gate.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';

function runbook(steps: DraftedRunbook['steps']): DraftedRunbook {
  const draft = { templateId: 't', title: 't', risk: 'medium' as const, steps, verify: { withinMs: 60_000, healthyPolls: 1 }, body: '', draftedBy: 'template' };
  return { ...draft, hash: runbookHash(draft) };
}
const rollback = (params: Record<string, string>): DraftedRunbook['steps'][number] => ({ action: 'codepipeline.rollback', params, description: 'd', risk: 'medium' });

describe('checkDraft: can the drafted runbook run at all', () => {
  const { policy } = demoFiles();
  const ok = { pipeline: 'checkout-deploy', stage: 'Deploy', targetExecutionId: 'abc-1' };

  it('passes an allow-listed step with its required parameters within bounds', () => {
    expect(checkDraft(policy, runbook([rollback(ok)]))).toEqual([]);
  });
  it('refuses an action that is not allow-listed', () => {
    const rb = runbook([{ action: 'ecs.deleteService', params: {}, description: 'd', risk: 'high' }]);
    expect(checkDraft(policy, rb)).toEqual([{ step: 1, code: 'action_not_allowed', message: 'action "ecs.deleteService" is not allow-listed' }]);
  });
  it('refuses a missing required parameter', () => {
    const { stage: _drop, ...rest } = ok;
    expect(checkDraft(policy, runbook([rollback(rest)]))).toEqual([{ step: 1, code: 'param_missing', message: 'parameter "stage" is required for codepipeline.rollback' }]);
  });
  it('refuses a parameter outside its pattern', () => {
    expect(checkDraft(policy, runbook([rollback({ ...ok, targetExecutionId: 'a b' })]))[0]?.code).toBe('param_invalid');
  });
  it('refuses a hash that does not match the content', () => {
    expect(checkDraft(policy, { ...runbook([rollback(ok)]), hash: 'sha256:00' })).toEqual([{ step: null, code: 'hash_mismatch', message: 'the runbook hash does not match its content' }]);
  });
  it('a template placeholder counts as present, its value is not checked', () => {
    expect(checkDraft(policy, runbook([rollback({ ...ok, targetExecutionId: '{{suspect.previousExecutionId}}' })]), { template: true })).toEqual([]);
  });
});

describe('the draft gate on the propose path', () => {
  it('a drafted runbook that cannot run goes to a person and nobody is asked to approve it', async () => {
    // Prepare: the policy requires a parameter the rollback template never sets.
    const files = demoFiles((d) => {
      const rule = d.actions['codepipeline.rollback'];
      if (rule) rule.params['region'] = { required: true };
    });
    const w = fastWorld(files);
    const inc = await seedCheckoutIncident(w);

    // Act
    await new Watcher(w.deps).runCycle();

    // Assess
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('needs_human');
    expect(now?.reason).toBe('the drafted runbook cannot run: step 1: parameter "region" is required for codepipeline.rollback');
    expect(now?.approval).toBeNull();
    expect(w.notifier.sent.some((a) => a.kind === 'proposal')).toBe(false);
    expect(w.notifier.sent.find((a) => a.kind === 'final')?.title).toMatch(/the drafted runbook cannot run/);
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'needs_human');
    expect(audit?.data['problems']).toEqual([{ step: 1, code: 'param_missing', message: 'parameter "region" is required for codepipeline.rollback' }]);
  });
});
