import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (bin: string, args: string[]): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('the cloudops bin in a clone (npm ci, no build)', () => {
  it('runs the CLI from source: a valid policy exits 0', () => {
    const r = run('bin/cloudops.js', ['validate', 'config/demo.yaml']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('config/demo.yaml: valid');
  });

  it("keeps the CLI's exit code and located message for a bad policy", () => {
    const r = run('bin/cloudops.js', ['validate', 'test/fixtures/policies/bad/bad-risk.yaml']);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/bad-risk\.yaml:\d+:\d+: actions\./);
  });

  it('says what is missing when neither the source nor the build is there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-bin-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync('bin/cloudops.js', join(dir, 'bin', 'cloudops.js'));
    const r = run(join(dir, 'bin', 'cloudops.js'), ['--help']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('npm run build');
  });
});
