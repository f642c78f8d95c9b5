import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/policy/load.js';
import { AWS_ACTIONS } from '../../../src/cloud/aws/codepipeline-actions.js';

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
    expect(Object.keys(policy.actions).filter((a) => !(AWS_ACTIONS as readonly string[]).includes(a))).toEqual([]);
  });
});
