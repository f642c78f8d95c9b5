import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/actions/catalogue.js';
import { iamPolicy, iamPolicyText } from '../../src/actions/iam-policy.js';

const ROOT = join(import.meta.dirname, '..', '..');
const granted = (doc: ReturnType<typeof iamPolicy>): string[] => doc.Statement.flatMap((s) => [...s.Action]);

describe('iam-policy.json generated from the action catalogue', () => {
  it('the committed iam-policy.json is exactly what `npm run gen:iam` writes', () => {
    expect(readFileSync(join(ROOT, 'iam-policy.json'), 'utf8')).toBe(iamPolicyText({ readonly: false }));
  });

  it('the committed iam-policy.readonly.json is exactly what `npm run gen:iam` writes', () => {
    expect(readFileSync(join(ROOT, 'iam-policy.readonly.json'), 'utf8')).toBe(iamPolicyText({ readonly: true }));
  });

  it('grants every IAM action each catalogue action declares, once', () => {
    const all = granted(iamPolicy({ readonly: false }));
    for (const a of ACTIONS) for (const iam of [...a.iam.read, ...a.iam.write]) expect(all, `${a.name} needs ${iam}`).toContain(iam);
    expect(new Set(all).size).toBe(all.length);
  });

  it('the read-only policy (shadow mode) grants every read and no write of any action', () => {
    const ro = granted(iamPolicy({ readonly: true }));
    for (const a of ACTIONS) {
      for (const iam of a.iam.read) expect(ro).toContain(iam);
      for (const iam of a.iam.write) if (iam !== 'sns:Publish') expect(ro, `${a.name}: ${iam} must not be in the read-only policy`).not.toContain(iam);
    }
    for (const write of ['ecs:UpdateService', 'lambda:UpdateAlias', 'codepipeline:RollbackStage', 'codepipeline:StopPipelineExecution', 'ssm:StartAutomationExecution', 'codepipeline:DisableStageTransition']) {
      expect(ro).not.toContain(write);
    }
  });
});
