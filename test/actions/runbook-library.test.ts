import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../src/policy/load.js';
import { loadCatalog } from '../../src/runbook/catalog.js';

const DIR = 'runbooks/library';

describe('runbooks/library: templates for the common cases, valid under a policy that allow-lists the catalogue', () => {
  const policy = loadPolicyFile(join(DIR, 'policy.yaml')).policy;

  it('loads all five templates through the draft gate (what `cloudops validate runbooks/library/policy.yaml` checks)', () => {
    const ids = loadCatalog(DIR, policy.actions).map((t) => t.id).sort();
    expect(ids).toEqual(['add-capacity', 'bad-ecs-deploy', 'bad-lambda-version', 'bad-pipeline-release', 'freeze-runaway-deploys']);
  });

  it('a template whose desired count is past the policy bound is refused with the file and the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
    writeFileSync(join(dir, 'add-capacity.md'), readFileSync(join(DIR, 'add-capacity.md'), 'utf8').replace('desiredCount: 6', 'desiredCount: 60'));
    expect(() => loadCatalog(dir, policy.actions)).toThrow(/add-capacity\.md.*desiredCount=60 is above the policy's maximum 10/s);
  });

  it('a template with a parameter the catalogue schema refuses (a Lambda version that is not a number) is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
    writeFileSync(join(dir, 'bad.md'), readFileSync(join(DIR, 'bad-lambda-version.md'), 'utf8').replace('alias: live', 'alias: live\n      fromVersion: "$LATEST"'));
    expect(() => loadCatalog(dir, policy.actions)).toThrow(/fromVersion/);
  });
});
