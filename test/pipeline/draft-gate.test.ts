import { describe, expect, it } from 'vitest';
import { Watcher } from '../../src/pipeline/watcher.js';
import { plainTrace } from '../../src/runbook/planner.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { demoFiles, fastWorld, seedCheckoutIncident } from '../helpers/fast-world.js';

function runbook(steps: DraftedRunbook['steps']): DraftedRunbook {
  const draft = { templateId: 't', title: 't', risk: 'medium' as const, steps, verify: { withinMs: 60_000, healthyPolls: 1 }, body: '', draftedBy: 'template' };
  return { ...draft, hash: runbookHash(draft) };
}

describe('the draft gate on the propose path', () => {
  it('a drafted runbook that cannot run goes to a person and nobody is asked to approve it', async () => {
    // Prepare: a planner (an agent, say) drafts a step the policy does not allow-list.
    const bad = runbook([{ action: 'ecs.deleteService', params: { service: 'checkout' }, description: 'd', risk: 'medium' }]);
    const w = fastWorld(demoFiles(), { planner: () => ({ kind: 'test', draft: () => Promise.resolve({ kind: 'drafted', runbook: bad, trace: plainTrace('test') }) }) });
    const inc = await seedCheckoutIncident(w);

    // Act
    await new Watcher(w.deps).runCycle();

    // Assess
    const now = await w.store.getIncident(inc.id);
    expect(now?.state).toBe('needs_human');
    expect(now?.reason).toBe('the drafted runbook cannot run: step 1: action "ecs.deleteService" is not allow-listed in the policy');
    expect(now?.approval).toBeNull();
    expect(w.notifier.sent.some((a) => a.kind === 'proposal')).toBe(false);
    expect(w.notifier.sent.find((a) => a.kind === 'final')?.title).toMatch(/the drafted runbook cannot run/);
    const audit = (await w.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'needs_human');
    expect(audit?.data['problems']).toEqual([{ step: 0, code: 'action_not_allowed', message: 'action "ecs.deleteService" is not allow-listed in the policy' }]);
  });
});
