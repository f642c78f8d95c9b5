import { describe, expect, it } from 'vitest';
import { compileActions, compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { parsePolicy } from '../../src/policy/load.js';
import { checkDraft, MAX_PARAM_LENGTH, MAX_STEPS, type DraftProblem } from '../../src/runbook/draft-gate.js';
import { runbookHash, type DraftedRunbook, type RunbookStep } from '../../src/runbook/runbook.js';
import type { RunbookTemplate } from '../../src/runbook/template.js';

const POLICY_TEXT = `
version: 1
account: { name: t }
cloud: { kind: sim, scenario: s.yaml }
services: { checkout: {} }
metrics: [{ id: m, service: checkout, namespace: N, metricName: M }]
approvers: { alice: {} }
approval: { quorum: { low: { approvals: 1, from: [alice] }, medium: { approvals: 1, from: [alice] }, high: { approvals: 1, from: [alice] } } }
actions:
  codepipeline.rollback:
    risk: medium
    params:
      pipeline: { enum: [checkout-deploy, payments-deploy] }
      stage: { pattern: "[A-Za-z0-9_-]{1,100}" }
      targetExecutionId: { required: false, pattern: "[a-f0-9-]{1,100}" }
  ecs.forceNewDeployment:
    risk: low
    params:
      cluster: {}
      service: { pattern: "[a-z-]+" }
`;
const POLICY: CompiledPolicy = compilePolicy(parsePolicy(POLICY_TEXT, 'gate.yaml'), 'gate.yaml');

const ROLLBACK: RunbookStep = { action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', stage: 'Prod', targetExecutionId: 'abc-123' }, description: 'roll back', risk: 'medium' };
const RESTART: RunbookStep = { action: 'ecs.forceNewDeployment', params: { cluster: 'prod', service: 'checkout' }, description: 'restart', risk: 'low' };

/** A drafted runbook with its hash recomputed, as the planner makes it. */
function drafted(steps: readonly RunbookStep[], risk: DraftedRunbook['risk'] = 'medium'): DraftedRunbook {
  const content = { templateId: 'rollback', title: 'Roll back', risk, steps, verify: { withinMs: 600_000, healthyPolls: 3 }, body: '', draftedBy: 'template' };
  return { ...content, hash: runbookHash(content) };
}
const BASE = drafted([ROLLBACK, RESTART]);
const withStep = (i: number, change: Partial<RunbookStep>): DraftedRunbook => drafted(BASE.steps.map((s, j) => (j === i ? { ...s, ...change } : s)));
const withParams = (i: number, params: RunbookStep['params']): DraftedRunbook => withStep(i, { params });

/** Everything in order: the gate passes. Each row changes exactly one thing and names the one problem it causes. */
const ROWS: [string, DraftedRunbook, Pick<DraftProblem, 'step' | 'code'>][] = [
  ['a step whose action is not allow-listed', withStep(1, { action: 'ecs.deleteService' }), { step: 1, code: 'action_not_allowed' }],
  ['a required parameter is missing', withParams(1, { service: 'checkout' }), { step: 1, code: 'param_missing' }],
  ['a parameter the policy does not list', withParams(1, { ...RESTART.params, force: true }), { step: 1, code: 'param_not_allowed' }],
  ['a value outside the enum', withParams(0, { ...ROLLBACK.params, pipeline: 'billing-deploy' }), { step: 0, code: 'param_not_in_enum' }],
  ['a value outside the pattern', withParams(0, { ...ROLLBACK.params, stage: 'Prod; rm -rf /' }), { step: 0, code: 'param_pattern' }],
  ['a pattern matching only part of the value (anchored)', withParams(0, { ...ROLLBACK.params, targetExecutionId: 'abc-123 ZZZ' }), { step: 0, code: 'param_pattern' }],
  ['a value longer than the bound where the policy gives none', withParams(1, { ...RESTART.params, cluster: 'x'.repeat(MAX_PARAM_LENGTH + 1) }), { step: 1, code: 'param_too_long' }],
  ['a value with control characters', withParams(1, { ...RESTART.params, cluster: 'prod\nApprove: https://evil' }), { step: 1, code: 'param_control_chars' }],
  ['a placeholder left unfilled in a drafted runbook', withParams(1, { ...RESTART.params, cluster: '{{cluster}}' }), { step: 1, code: 'placeholder_unfilled' }],
  ['a step that understates its risk', withStep(0, { risk: 'low' }), { step: 0, code: 'risk_understated' }],
  ['a runbook that understates its risk', drafted([ROLLBACK, RESTART], 'low'), { step: null, code: 'risk_understated' }],
  ['a hash that is not the hash of the content', { ...BASE, hash: drafted([RESTART]).hash }, { step: null, code: 'hash_mismatch' }],
  ['content changed after hashing', { ...BASE, steps: [ROLLBACK, { ...RESTART, params: { ...RESTART.params, service: 'payments' } }] }, { step: null, code: 'hash_mismatch' }],
  ['a compensating step whose action is not allow-listed', withStep(1, { compensate: { action: 'ecs.deleteService', params: {}, description: 'undo' } }), { step: 1, code: 'action_not_allowed' }],
  ['a compensating step with a value outside the enum', withStep(1, { compensate: { action: 'codepipeline.rollback', params: { pipeline: 'billing-deploy', stage: 'Prod' }, description: 'undo' } }), { step: 1, code: 'param_not_in_enum' }],
  ['a runbook whose risk is below its compensating step\'s', drafted([RESTART, { ...RESTART, compensate: { action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', stage: 'Prod' }, description: 'undo' } }], 'low'), { step: null, code: 'risk_understated' }],
  ['no steps', drafted([]), { step: null, code: 'no_steps' }],
  ['more steps than the bound', drafted(Array.from({ length: MAX_STEPS + 1 }, () => RESTART), 'low'), { step: null, code: 'too_many_steps' }],
];

describe('checkDraft(): the draft gate before anybody is asked', () => {
  it('passes a runbook that could run as written', () => {
    expect(checkDraft(POLICY, BASE)).toEqual([]);
  });

  it.each(ROWS)('refuses %s', (_name, runbook, expected) => {
    const problems = checkDraft(POLICY, runbook);
    expect(problems.map((p) => ({ step: p.step, code: p.code }))).toEqual([expected]);
    expect(problems[0]?.message).not.toBe('');
  });

  it('passes an allowed compensating step, and says a refused one is the compensation', () => {
    const undo = { action: 'codepipeline.rollback', params: { pipeline: 'checkout-deploy', stage: 'Prod' }, description: 'undo' };
    expect(checkDraft(POLICY, drafted([{ ...RESTART, compensate: undo }, ROLLBACK]))).toEqual([]);
    expect(checkDraft(POLICY, withStep(1, { compensate: { ...undo, params: { pipeline: 'checkout-deploy' } } }))).toEqual([
      { step: 1, param: 'stage', code: 'param_missing', message: 'compensating step: parameter "stage" is required for codepipeline.rollback' },
    ]);
  });

  it('lists every problem, not only the first', () => {
    const rb = drafted([{ ...ROLLBACK, action: 'ecs.deleteService' }, { ...RESTART, params: { service: 'Checkout' } }]);
    expect(checkDraft(POLICY, rb).map((p) => `${p.step}:${p.code}`)).toEqual(['0:action_not_allowed', '1:param_pattern', '1:param_missing']);
  });

  it('names the parameter and the action in its message', () => {
    expect(checkDraft(POLICY, withParams(1, { service: 'checkout' }))).toEqual([
      { step: 1, param: 'cluster', code: 'param_missing', message: 'parameter "cluster" is required for ecs.forceNewDeployment' },
    ]);
  });

  it('reads the policy given, not a copy (an allow-list with the action removed refuses it)', () => {
    const { 'ecs.forceNewDeployment': _dropped, ...rest } = POLICY.doc.actions;
    const narrower: CompiledPolicy = { ...POLICY, actions: compileActions(rest) };
    expect(checkDraft(narrower, BASE).map((p) => p.code)).toEqual(['action_not_allowed']);
  });
});

describe('checkDraft(…, { template: true }): a template before any incident fills it', () => {
  const template = (params: Record<string, string | number | boolean>, action = 'ecs.forceNewDeployment'): RunbookTemplate => ({
    id: 't', title: 't', priority: 0, applies: { suspect: 'any', services: [], directions: [] },
    steps: [{ action, description: 'd', params }], verify: { within: '10m', healthyPolls: 3 }, file: 't.md', body: '',
  });

  it('accepts a placeholder where a value is required (presence, not value)', () => {
    expect(checkDraft(POLICY, template({ cluster: 'prod', service: '{{service}}' }), { template: true })).toEqual([]);
  });

  it('still checks literal values against the policy', () => {
    expect(checkDraft(POLICY, template({ cluster: 'prod', service: 'Checkout' }), { template: true }).map((p) => p.code)).toEqual(['param_pattern']);
  });

  it('refuses a required parameter the template never sets (the restart-service bug)', () => {
    expect(checkDraft(POLICY, template({ service: '{{service}}' }), { template: true }).map((p) => `${p.param}:${p.code}`)).toEqual(['cluster:param_missing']);
  });

  it('refuses an action that is not allow-listed', () => {
    expect(checkDraft(POLICY, template({}, 'ecs.deleteService'), { template: true }).map((p) => p.code)).toEqual(['action_not_allowed']);
  });

  it('has no hash to check', () => {
    expect(checkDraft(POLICY, template({ cluster: 'prod', service: 'x' }), { template: true })).toEqual([]);
  });
});
