import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface DemoVariant {
  /** Edits the demo scenario document (config/scenarios/demo.yaml) in place. */
  readonly scenario?: (doc: Record<string, any>) => void;
  /** Edits the runbook catalog: file name → text (runbooks/*.md as they are). */
  readonly runbooks?: (files: Map<string, string>) => void;
  /** Edits the demo policy document (config/demo.yaml) in place. */
  readonly policy?: (doc: Record<string, any>) => void;
}

/**
 * Writes a copy of the demo world — policy, scenario and runbook catalog — with `v`'s edits into a
 * fresh folder, and returns the policy file: the pipeline then reads the edited world from disk the
 * way the daemon does.
 */
export function demoVariant(v: DemoVariant): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-variant-'));
  const scenario = parse(readFileSync(join(ROOT, 'config', 'scenarios', 'demo.yaml'), 'utf8')) as Record<string, any>;
  v.scenario?.(scenario);
  writeFileSync(join(dir, 'scenario.yaml'), stringify(scenario));
  const src = join(ROOT, 'runbooks');
  const files = new Map(readdirSync(src).filter((f) => f.endsWith('.md')).map((f) => [f, readFileSync(join(src, f), 'utf8')]));
  v.runbooks?.(files);
  const runbooks = join(dir, 'runbooks');
  mkdirSync(runbooks);
  for (const [f, text] of files) writeFileSync(join(runbooks, f), text);
  const doc = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, any>;
  doc.cloud.scenario = join(dir, 'scenario.yaml');
  doc.runbooks.dir = runbooks;
  v.policy?.(doc);
  writeFileSync(join(dir, 'policy.yaml'), stringify(doc));
  return join(dir, 'policy.yaml');
}
