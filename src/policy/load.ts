import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { crossCheck, type PolicyProblem } from './cross-check.js';
import { policySchema, type PolicyDoc } from './schema.js';

/** One problem in a policy file, with where it is. Prints as `FILE:LINE:COL: path.to.key: message`. */
export interface PolicyError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

export class PolicyInvalidError extends Error {
  constructor(readonly errors: readonly PolicyError[]) {
    super(errors.map(formatPolicyError).join('\n'));
    this.name = 'PolicyInvalidError';
  }
}

export function formatPolicyError(e: PolicyError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.path || '(root)'}: ${e.message}`;
}

export interface LoadedPolicy {
  readonly file: string;
  readonly policy: PolicyDoc;
}

/** Reads, parses and validates a policy file; throws PolicyInvalidError listing every problem. */
export function loadPolicyFile(file: string): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyInvalidError([{ file, line: 1, col: 1, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return { file, policy: parsePolicy(text, file) };
}

/** Parses and validates policy text. `file` only labels the errors. */
export function parsePolicy(text: string, file = '<policy>'): PolicyDoc {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    throw new PolicyInvalidError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.code}` })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  const locate = (path: readonly PropertyKey[], key?: string): { line: number; col: number } => {
    const offset = nodeOffset(doc.contents, path, key);
    return at(offset);
  };

  const parsed = policySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new PolicyInvalidError(sortErrors(parsed.error.issues.flatMap((i) => issueToErrors(i, file, locate))));
  }
  const problems: PolicyProblem[] = crossCheck(parsed.data);
  if (problems.length > 0) {
    throw new PolicyInvalidError(
      sortErrors(problems.map((p) => ({ file, ...locate(p.path), path: p.path.join('.'), message: p.message }))),
    );
  }
  return parsed.data;
}

function issueToErrors(
  issue: z.core.$ZodIssue,
  file: string,
  locate: (path: readonly PropertyKey[], key?: string) => { line: number; col: number },
): PolicyError[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ file, ...locate(issue.path, k), path: [...path, k].join('.'), message: `unknown key "${k}"` }));
  }
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return [{ file, ...locate(issue.path), path: path.join('.'), message: issue.message }];
  }
  return [{ file, ...locate(issue.path), path: path.join('.'), message: friendlyMessage(issue) }];
}

function friendlyMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return `required (${issue.expected})`;
  if (issue.code === 'invalid_value') return `${issue.message}`;
  return issue.message;
}

function sortErrors(errors: PolicyError[]): PolicyError[] {
  return errors.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The source offset of the node at `path` (or of `key` inside it); the nearest existing ancestor when missing. */
function nodeOffset(root: Node | null, path: readonly PropertyKey[], key?: string): number {
  let node: Node | null = root;
  let offset = node?.range?.[0] ?? 0;
  const steps = key === undefined ? path : [...path, key];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const isLast = i === steps.length - 1;
    if (!node) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) break;
      // For an unknown key, point at the key itself; otherwise at the value.
      const keyNode = pair.key as Node;
      if (isLast && key !== undefined) return keyNode.range?.[0] ?? offset;
      node = (pair.value as Node | null) ?? null;
      offset = node?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if ('items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as unknown as { items: (Node | null)[] }).items[Number(step)];
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}
