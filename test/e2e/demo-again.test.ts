import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restartEndedScenario } from '../../src/compose.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';

const policy = compilePolicy(loadPolicyFile('config/demo.yaml').policy, 'config/demo.yaml');
const MIN = 60_000;

function dataDir(wallStart: number): { dir: string; store: string } {
  const dir = mkdtempSync(join(tmpdir(), 'demo-again-'));
  writeFileSync(join(dir, 'sim-state.json'), JSON.stringify({ wallStart }));
  const store = join(dir, 'cloudops.db');
  writeFileSync(store, 'x');
  writeFileSync(`${store}-wal`, 'x');
  return { dir, store };
}

describe('a second npm start of the demo', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  // The demo runs 40 virtual minutes at 30x: about 80 wall seconds.
  it('starts the scenario again with fresh state once it has played to its end', () => {
    const { dir, store } = dataDir(now - 10 * MIN);
    expect(restartEndedScenario(policy, dir, store, now)).toBe(true);
    expect(existsSync(join(dir, 'sim-state.json'))).toBe(false);
    expect(existsSync(store)).toBe(false);
    expect(existsSync(`${store}-wal`)).toBe(false);
  });

  it('keeps the state of a run stopped mid-scenario (a crash or restart continues it)', () => {
    const { dir, store } = dataDir(now - 30_000);
    expect(restartEndedScenario(policy, dir, store, now)).toBe(false);
    expect(existsSync(join(dir, 'sim-state.json'))).toBe(true);
    expect(existsSync(store)).toBe(true);
  });

  it('never touches the state of a policy for a real account', () => {
    const doc = loadPolicyFile('config/demo.yaml').policy;
    const aws = { ...compilePolicy(doc, 'config/demo.yaml'), scenarioFile: null };
    const { dir, store } = dataDir(now - 10 * MIN);
    expect(restartEndedScenario(aws, dir, store, now)).toBe(false);
    expect(existsSync(store)).toBe(true);
  });

  it('keeps a DynamoDB store and the simulated cloud state: the shared table is not this process\'s to empty', () => {
    const doc = loadPolicyFile('config/demo.yaml').policy;
    doc.store = { kind: 'dynamodb', table: 'cloudops-demo' } as typeof doc.store;
    const dynamo = compilePolicy(doc, 'config/demo.yaml');
    const { dir, store } = dataDir(now - 10 * MIN);
    expect(restartEndedScenario(dynamo, dir, store, now)).toBe(false);
    expect(existsSync(join(dir, 'sim-state.json'))).toBe(true);
  });
});
