import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile, PolicyInvalidError } from '../../src/policy/load.js';

describe('CompiledPolicy carries compiled values', () => {
  const file = 'config/policy.example.yaml';
  const p = compilePolicy(loadPolicyFile(file).policy, file);

  it('durations in milliseconds', () => {
    expect(p.approval.ttl).toBe(15 * 60_000);
    expect(p.approval.reminders).toEqual([5 * 60_000, 10 * 60_000]);
    expect(p.approval.escalation?.after).toBe(10 * 60_000);
    expect(p.grouping).toEqual({ groupWait: 60_000, groupInterval: 5 * 60_000, clearAfter: 5 * 60_000 });
    expect(p.lookback).toBe(2 * 3_600_000);
  });

  it('approval rules per risk with groups expanded', () => {
    expect(p.approval.byRisk.high.approvals).toBe(2);
    expect([...p.approval.byRisk.high.eligible].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(p.approval.escalation?.to).toEqual(new Set(['carol']));
    expect(p.approval.selfApproval).toBe('forbidden');
  });

  it('parameter patterns compiled once and anchored', () => {
    const rule = p.actions.get('ecs.scaleService')?.params.get('desiredCount');
    expect(rule?.pattern?.test('20')).toBe(true);
    expect(rule?.pattern?.test('200')).toBe(false); // "[1-9]|1[0-9]|20" must match the whole value
    expect(p.actions.get('ecs.scaleService')?.params.get('desiredCount')?.pattern).toBe(rule?.pattern);
  });

  it('safety settings and windows', () => {
    expect(p.safety).toEqual({ killSwitch: false, killSwitchParameter: '/cloudops/kill-switch', maxActionsPerHour: 5 });
    expect(p.freezes[0]?.start).toBe(Date.parse('2025-12-20T00:00:00+01:00'));
  });
});

describe('run refuses to start on what validate refuses', () => {
  const fixture = 'test/fixtures/policies/bad/runbook-unknown-action.yaml';
  const expected = 'test/fixtures/policies/bad/runbook-unknown-action.d/delete-service.md:9:13: steps.1.action: action "ecs.deleteService" is not allow-listed in the policy';

  it('startDaemon rejects with the located runbook problem before building anything', async () => {
    await expect(startDaemon({ policyFile: fixture, logger: pino({ level: 'silent' }), port: 0 })).rejects.toBeInstanceOf(PolicyInvalidError);
    await expect(startDaemon({ policyFile: fixture, logger: pino({ level: 'silent' }), port: 0 })).rejects.toThrow(expected);
  });

  it('cloudops run prints it and exits 2', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--policy', fixture], { encoding: 'utf8', stdio: 'pipe', timeout: 20_000 });
    } catch (err) {
      const e = err as { status: number; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(2);
    expect(stderr.trim()).toBe(`cloudops: ${expected}`);
  });
});
