import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ActionAllowList } from '../execute/action-policy.js';
import { compileActions, type CompiledPolicy } from '../policy/compile.js';
import { locateInPolicyFile, nodeOffset, PolicyInvalidError, type PolicyError } from '../policy/load.js';
import { checkDraft, type DraftProblem } from './draft-gate.js';
import { parseTemplate, RunbookTemplateError, type RunbookTemplate } from './template.js';

/** Loads every `*.md` template in `dir` and checks each step against the allow-list with the draft gate. */
export function loadCatalog(dir: string, actions: ActionAllowList): RunbookTemplate[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
  } catch (err) {
    throw new RunbookTemplateError(dir, `cannot read runbook folder: ${(err as Error).message}`);
  }
  const templates = files.map((f) => parseTemplate(join(dir, f), readFileSync(join(dir, f), 'utf8')));
  const ids = new Set<string>();
  // The gate reads only the compiled allow-list; callers here have the raw one.
  const gatePolicy = { actions: compileActions(actions) } as Pick<CompiledPolicy, 'actions'> as CompiledPolicy;
  for (const t of templates) {
    if (ids.has(t.id)) throw new RunbookTemplateError(t.file, `duplicate runbook id "${t.id}"`);
    ids.add(t.id);
    const first = checkDraft(gatePolicy, t, { template: true })[0];
    if (first) throw new RunbookTemplateError(t.file, `${problemPath(first)}: ${first.message}`);
  }
  return templates;
}

/** Where a gate problem sits in a template's front matter, as a dotted path. */
function problemPath(p: DraftProblem): string {
  if (p.step === null) return 'steps';
  if (p.code === 'action_not_allowed') return `steps.${p.step}.action`;
  return p.param !== undefined ? `steps.${p.step}.params.${p.param}` : `steps.${p.step}`;
}

/** The runbook folder as the user wrote it, resolved against the policy file's folder (keeps messages relative). */
function shownDir(policy: CompiledPolicy): string {
  const dir = policy.doc.runbooks.dir;
  return isAbsolute(dir) ? dir : join(dirname(policy.file), dir);
}

/** FILE:LINE:COL of a dotted path inside a template's front matter (which starts on line 2). */
function locateInTemplate(file: string, text: string, path: string): { line: number; col: number } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return { line: 1, col: 1 };
  const lineCounter = new LineCounter();
  const doc = parseDocument(m[1] ?? '', { lineCounter });
  const steps = path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const pos = lineCounter.linePos(nodeOffset(doc.contents, steps));
  return { line: pos.line + 1, col: pos.col };
}

/**
 * Every reason the policy's runbooks cannot run under it: a missing or empty folder, a template that
 * does not parse, a duplicate id, and every draft-gate problem of every template (placeholders
 * checked for presence only). Located at FILE:LINE:COL in the template, or at `runbooks.dir` in the policy.
 */
export function checkCatalog(policy: CompiledPolicy, locatePolicy: (path: readonly string[]) => { line: number; col: number } = (path) => locateInPolicyFile(policy.file, path)): PolicyError[] {
  const dir = shownDir(policy);
  const atDir = (message: string): PolicyError[] => [{ file: policy.file, ...locatePolicy(['runbooks', 'dir']), path: 'runbooks.dir', message }];
  let files: string[];
  try {
    files = readdirSync(policy.runbookDir).filter((f) => f.endsWith('.md')).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return atDir(`runbook folder "${dir}" does not exist`);
    if (code === 'ENOTDIR') return atDir(`runbook folder "${dir}" is not a folder`);
    return atDir(`cannot read runbook folder "${dir}": ${(err as Error).message}`);
  }
  if (files.length === 0) return atDir(`runbook folder "${dir}" has no runbook templates (*.md)`);

  const errors: PolicyError[] = [];
  const ids = new Map<string, string>();
  for (const f of files) {
    const file = join(dir, f);
    let text: string;
    let t: RunbookTemplate;
    try {
      text = readFileSync(join(policy.runbookDir, f), 'utf8');
      t = parseTemplate(file, text);
    } catch (err) {
      const message = err instanceof RunbookTemplateError ? err.message.slice(file.length + 2) : (err as Error).message;
      errors.push({ file, line: 1, col: 1, path: '', message });
      continue;
    }
    const other = ids.get(t.id);
    if (other !== undefined) errors.push({ file, ...locateInTemplate(file, text, 'id'), path: 'id', message: `duplicate runbook id "${t.id}" (also ${other})` });
    else ids.set(t.id, file);
    for (const p of checkDraft(policy, t, { template: true })) {
      const path = problemPath(p);
      errors.push({ file, ...locateInTemplate(file, text, path), path, message: p.message });
    }
  }
  return errors;
}

/** Throws PolicyInvalidError when the policy's runbooks cannot run (what `run` and `validate` refuse). */
export function assertRunbooksRunnable(policy: CompiledPolicy, locatePolicy?: (path: readonly string[]) => { line: number; col: number }): void {
  const errors = checkCatalog(policy, locatePolicy);
  if (errors.length > 0) throw new PolicyInvalidError(errors);
}
