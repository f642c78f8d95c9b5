import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionAllowList } from '../execute/action-policy.js';
import { parseTemplate, RunbookTemplateError, type RunbookTemplate } from './template.js';

/** Loads every `*.md` template in `dir` and checks each step's action against the allow-list. */
export function loadCatalog(dir: string, actions: ActionAllowList): RunbookTemplate[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
  } catch (err) {
    throw new RunbookTemplateError(dir, `cannot read runbook folder: ${(err as Error).message}`);
  }
  const templates = files.map((f) => parseTemplate(join(dir, f), readFileSync(join(dir, f), 'utf8')));
  const ids = new Set<string>();
  for (const t of templates) {
    if (ids.has(t.id)) throw new RunbookTemplateError(t.file, `duplicate runbook id "${t.id}"`);
    ids.add(t.id);
    t.steps.forEach((s, i) => {
      if (!actions[s.action]) throw new RunbookTemplateError(t.file, `steps.${i}.action: action "${s.action}" is not allow-listed in the policy`);
    });
  }
  return templates;
}
