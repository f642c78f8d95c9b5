import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../../src/policy/json-schema.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { loadCatalog } from '../../src/runbook/catalog.js';

describe('policy schema and shipped policies', () => {
  it('config/policy.schema.json is the schema generated from the zod schema (run `npm run schema` when this fails)', () => {
    const onDisk = JSON.parse(readFileSync('config/policy.schema.json', 'utf8')) as unknown;
    expect(onDisk).toEqual(policyJsonSchema());
  });

  it('the JSON Schema forbids unknown keys at the top level', () => {
    expect(policyJsonSchema()['additionalProperties']).toBe(false);
  });

  it.each(readdirSync('config').filter((f) => /^(demo|policy\..*)\.yaml$/.test(f) && !f.endsWith('schema.json')))('config/%s is valid and its runbooks use only allow-listed actions', (f) => {
    const { policy } = loadPolicyFile(`config/${f}`);
    expect(policy.metrics.length).toBeGreaterThan(0);
    const templates = loadCatalog('runbooks', policy.actions);
    expect(templates.length).toBeGreaterThan(0);
  });
});
