import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { approverForToken, sha256Hex } from '../../src/approval/approver-tokens.js';

describe('cloudops token', () => {
  it('prints a fresh token and the sha256 that makes the policy accept it', () => {
    const run = (): string => execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'token'], { encoding: 'utf8', stdio: 'pipe' });
    const first = run();
    const token = /^token:\s+(\S+)$/m.exec(first)?.[1] ?? '';
    const hash = /^tokenSha256:\s+([0-9a-f]{64})$/m.exec(first)?.[1] ?? '';
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(hash).toBe(sha256Hex(token));
    expect(approverForToken({ dana: { tokenSha256: hash } }, token)).toBe('dana');
    expect(run()).not.toContain(token);
  });
});
