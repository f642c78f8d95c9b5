import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/cloud/ports.js';
import { epochMs } from '../../src/core/time.js';
import { canTransition, followUp, INCIDENT_STATES, mayRedraft, TERMINAL_STATES, type RedraftTrigger } from '../../src/incident/lifecycle.js';
import { newEvidence, type NewEvidenceInput } from '../../src/incident/new-evidence.js';
import { asRevision, describeDiff, diffSteps, sameSteps, stepViews } from '../../src/incident/revisions.js';
import { checkDraft } from '../../src/runbook/draft-gate.js';
import { runbookHash, type DraftedRunbook } from '../../src/runbook/runbook.js';
import { demoFiles } from '../helpers/fast-world.js';

const reject: RedraftTrigger = { kind: 'rejected', by: 'bob', reason: 'schema migration' };

describe('follow-ups and re-drafts in the lifecycle (pure)', () => {
  it('re-propose only after reject or expiry; assign and close also after a hand-over; nothing else', () => {
    for (const s of INCIDENT_STATES) {
      expect(followUp(s, 'repropose').ok).toBe(s === 'rejected' || s === 'expired');
      expect(followUp(s, 'assign').ok).toBe(s === 'rejected' || s === 'expired' || s === 'needs_human');
      expect(followUp(s, 'close').ok).toBe(['rejected', 'expired', 'needs_human', 'withdrawn'].includes(s));
    }
    expect(followUp('expired', 'repropose')).toEqual({ ok: true, to: 'awaiting_approval' });
    expect(followUp('rejected', 'assign')).toEqual({ ok: true, to: 'needs_human' });
    expect(followUp('needs_human', 'close')).toEqual({ ok: true, to: 'closed' });
    expect(followUp('resolved', 'close')).toEqual({ ok: false, why: 'cannot close an incident that is resolved (only when rejected, expired, needs_human, withdrawn)' });
  });

  it('a re-draft goes from awaiting_approval back to drafting; closed is terminal; follow-ups are not watcher transitions', () => {
    expect(canTransition('awaiting_approval', 'drafting')).toBe(true);
    expect(TERMINAL_STATES.has('closed')).toBe(true);
    expect(canTransition('expired', 'awaiting_approval')).toBe(false);
  });

  it.each<[string, Parameters<typeof mayRedraft>, boolean, string?]>([
    ['a reject with a reason, one left', ['awaiting_approval', reject, 0, 1], true],
    ['none left', ['awaiting_approval', reject, 1, 1], false, '1 of 1 re-draft(s) used'],
    ['re-drafts off', ['awaiting_approval', reject, 0, 0], false, '0 of 0 re-draft(s) used'],
    ['a reject without a reason', ['awaiting_approval', { kind: 'rejected', by: 'bob', reason: '  ' }, 0, 2], false, 'the reject gave no reason to draft against'],
    ['not awaiting approval', ['approved', reject, 0, 2], false, 'the incident is approved, not awaiting approval'],
    ['new evidence', ['awaiting_approval', { kind: 'service_failing', service: 'payments', incidentId: 'p-1' }, 1, 2], true],
  ])('mayRedraft: %s', (_n, args, redraft, why) => {
    const v = mayRedraft(...args);
    expect(v.redraft).toBe(redraft);
    if (!v.redraft) expect(v.why).toBe(why);
  });
});

const dep = (id: string, pipeline: string, startedAt: number): Deployment => ({ id, pipeline, status: 'Succeeded', startedAt: epochMs(startedAt) });
const base: NewEvidenceInput = {
  service: 'checkout',
  incidentId: 'c-1',
  since: epochMs(1000),
  suspectId: 'suspect',
  deployments: [],
  pipelineServices: new Map([['checkout-deploy', ['checkout']], ['payments-deploy', ['payments']], ['search-deploy', ['search']], ['web-deploy', ['web']]]),
  dependsOn: new Map([['checkout', ['payments']], ['web', ['checkout']], ['search', []]]),
  incidents: [],
};

describe('newEvidence (pure)', () => {
  it.each<[string, Partial<NewEvidenceInput>, RedraftTrigger | null]>([
    ['nothing new', {}, null],
    ['a deployment before the request', { deployments: [dep('old', 'payments-deploy', 900)] }, null],
    ['the suspect itself, still rolling out', { deployments: [dep('suspect', 'checkout-deploy', 1500)] }, null],
    ['a new deployment of the service', { deployments: [dep('c2', 'checkout-deploy', 1500)] }, { kind: 'new_deployment', deploymentId: 'c2', pipeline: 'checkout-deploy', service: 'checkout' }],
    ['a new deployment of a dependency', { deployments: [dep('p2', 'payments-deploy', 1500)] }, { kind: 'new_deployment', deploymentId: 'p2', pipeline: 'payments-deploy', service: 'payments' }],
    ['a new deployment of a service that calls it', { deployments: [dep('w2', 'web-deploy', 1500)] }, { kind: 'new_deployment', deploymentId: 'w2', pipeline: 'web-deploy', service: 'web' }],
    ['an unrelated service deploying', { deployments: [dep('s2', 'search-deploy', 1500)] }, null],
    ['a related service failing', { incidents: [{ id: 'p-1', service: 'payments', openedAt: epochMs(1200) }] }, { kind: 'service_failing', service: 'payments', incidentId: 'p-1' }],
    ['an unrelated service failing', { incidents: [{ id: 's-1', service: 'search', openedAt: epochMs(1200) }] }, null],
    ['a related incident older than the request', { incidents: [{ id: 'p-0', service: 'payments', openedAt: epochMs(800) }] }, null],
    ['the earliest of several wins', { deployments: [dep('p2', 'payments-deploy', 1600)], incidents: [{ id: 'p-1', service: 'payments', openedAt: epochMs(1200) }] }, { kind: 'service_failing', service: 'payments', incidentId: 'p-1' }],
  ])('%s', (_n, over, expected) => {
    expect(newEvidence({ ...base, ...over })).toEqual(expected);
  });
});

describe('runbook versions (pure)', () => {
  const files = demoFiles();
  const step = (action: string, params: Record<string, string>) => ({ action, params, description: action, risk: 'medium' as const });
  const draft = (steps: ReturnType<typeof step>[]): DraftedRunbook => {
    const c = { templateId: 't', title: 'T', risk: 'medium' as const, steps, verify: { withinMs: 60_000, healthyPolls: 3 }, body: '', draftedBy: 'test' };
    return { ...c, hash: runbookHash(c) };
  };
  const rollback = step('codepipeline.rollback', { pipeline: 'checkout-deploy', stage: 'Deploy', targetExecutionId: 'a1' });

  it('diffs steps: removed, added, and the same action with other parameters', () => {
    const after = [step('codepipeline.rollback', { pipeline: 'checkout-deploy', stage: 'Deploy', targetExecutionId: 'b2' }), step('ecs.forceNewDeployment', { service: 'checkout' })];
    expect(diffSteps(stepViews(draft([rollback])), stepViews(draft(after)))).toEqual(['~ step 1: codepipeline.rollback targetExecutionId: "a1" → "b2"', '+ step 2: ecs.forceNewDeployment {"service":"checkout"}']);
    expect(diffSteps(stepViews(draft([rollback])), stepViews(draft([step('ecs.forceNewDeployment', { service: 'checkout' })])))).toEqual([
      '- step 1: codepipeline.rollback {"pipeline":"checkout-deploy","stage":"Deploy","targetExecutionId":"a1"}',
      '+ step 1: ecs.forceNewDeployment {"service":"checkout"}',
    ]);
    expect(describeDiff(stepViews(draft([rollback])), stepViews(draft([rollback])))).toBe('steps unchanged');
  });

  it('a version has its own hash, the same steps, and passes the draft gate (the hash is of its content)', () => {
    const v1 = draft([rollback]);
    const v2 = asRevision(v1, 2);
    expect(v2.hash).not.toBe(v1.hash);
    expect(asRevision(v1, 2).hash).toBe(v2.hash);
    expect(asRevision(v1, 3).hash).not.toBe(v2.hash);
    expect(sameSteps(v2, { steps: stepViews(v1) })).toBe(true);
    expect(checkDraft(files.policy, v2).map((p) => p.code)).not.toContain('hash_mismatch');
    // A tampered revision is caught: the hash no longer matches the content.
    expect(checkDraft(files.policy, { ...v2, revision: 5 }).map((p) => p.code)).toContain('hash_mismatch');
  });
});
