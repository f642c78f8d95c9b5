import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runScenario, type RunScenarioOptions } from '../../src/cloud/sim/run-scenario.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { evaluate, summarize, type ScenarioOutcome, type Summary } from './evaluate.js';

export const DEFAULT_SUITE = 'test/fixtures/scenarios';

/** The policy for a folder of scenarios: its own policy.yaml, else the default suite's. */
export function suitePolicy(dir: string): CompiledPolicy {
  const own = join(dir, 'policy.yaml');
  const file = existsSync(own) ? own : join(DEFAULT_SUITE, 'policy.yaml');
  return compilePolicy(loadPolicyFile(file).policy, file);
}

/** Scenario files of a folder (every .yaml/.yml except policy.yaml), sorted. */
export function scenarioFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/^policy\.ya?ml$/.test(f))
    .sort()
    .map((f) => resolve(dir, f));
}

/** Runs every scenario of `dir` (a few at a time) and scores them against their ground truth. */
export async function runSuite(dir: string, opts: RunScenarioOptions & { readonly only?: RegExp; readonly concurrency?: number } = {}): Promise<{ outcomes: ScenarioOutcome[]; summary: Summary }> {
  const policy = suitePolicy(dir);
  const files = scenarioFiles(dir).filter((f) => !opts.only || opts.only.test(f));
  const outcomes: ScenarioOutcome[] = new Array<ScenarioOutcome>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      if (file === undefined) continue;
      outcomes[i] = evaluate(await runScenario(policy, file, opts));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  return { outcomes, summary: summarize(outcomes) };
}
