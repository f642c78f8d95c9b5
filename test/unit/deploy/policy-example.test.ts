import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/policy/load.js';
import { AWS_ACTIONS } from '../../../src/cloud/aws/codepipeline-actions.js';
import { demoToken } from '../../../src/policy/cross-check.js';
import { loadRunnablePolicy } from '../../../src/policy/validate.js';
import { createHash } from 'node:crypto';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const file = join(ROOT, 'config', 'policy.example.yaml');

describe('config/policy.example.yaml', () => {
  const policy = parsePolicy(readFileSync(file, 'utf8'), file);

  it('is a valid policy for real AWS', () => {
    expect(policy.cloud.kind).toBe('aws');
    expect(policy.metrics.length).toBeGreaterThan(3);
  });

  it('shows extended statistics, metric math and a non-default period', () => {
    expect(policy.metrics.some((m) => /^p\d/.test(m.stat))).toBe(true);
    expect(policy.metrics.some((m) => m.stat.startsWith('TM('))).toBe(true);
    expect(policy.metrics.some((m) => m.expression !== undefined)).toBe(true);
    expect(policy.metrics.some((m) => m.period === 300)).toBe(true);
  });

  it('allows only actions the AWS target can run', () => {
    expect(Object.keys(policy.actions).filter((a) => !AWS_ACTIONS.includes(a))).toEqual([]);
  });

  it('passes validate with its runbooks: every template step can run under its allow-list (restart-service sets cluster)', () => {
    const { policy: compiled, templates } = loadRunnablePolicy(file);
    expect(templates.map((t) => t.id).sort()).toEqual(['restart-service', 'rollback-suspect-deployment']);
    expect(compiled.actions.get('ecs.forceNewDeployment')?.params.get('cluster')?.required).toBe(true);
  });

  it('ships no token hash of a public demo token, and writes its safety settings out', () => {
    const demo = new Set(Object.keys(policy.approvers).map((n) => createHash('sha256').update(demoToken(n)).digest('hex')));
    expect(Object.values(policy.approvers).filter((a) => a.tokenSha256 !== undefined && demo.has(a.tokenSha256))).toEqual([]);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/\n {2}killSwitch: false/);
    expect(text).toMatch(/\n {2}maxActionsPerHour: \d+/);
    expect(text).toMatch(/\n {2}ttl: \d+m/);
  });
});
