import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Document, type Node, type Pair } from 'yaml';
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

/** A policy file larger than this is refused before parsing (the example is about 10 KB). */
export const MAX_POLICY_BYTES = 2 * 1024 * 1024;
/** At most this many problems are listed; the rest are counted (20,000 unknown keys are one mistake, not 20,000). */
export const MAX_LISTED_ERRORS = 100;
/** Aliases a policy may expand; a "billion laughs" file needs far more. */
const MAX_ALIAS_COUNT = 100;

/** Parses and validates policy text. `file` only labels the errors. */
export function parsePolicy(text: string, file = '<policy>'): PolicyDoc {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyInvalidError([{ file, line: 1, col: 1, path: '', message: `the file is larger than ${MAX_POLICY_BYTES / 1024 / 1024} MiB` }]);
  }
  const lineCounter = new LineCounter();
  // yaml's own uniqueKeys check compares every key with every other (quadratic): duplicateKeys() is linear.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  const fail = (errors: PolicyError[]): never => {
    throw new PolicyInvalidError(capErrors(sortErrors(errors), file));
  };

  const spans = doc.errors.length > 0 ? nodeSpans(doc.contents, [], []) : [];
  // Placing is linear in the document, so only the errors that can be listed are placed.
  const syntax = doc.errors.map((e, n) => {
    const where = n <= MAX_LISTED_ERRORS ? syntaxErrorSite(spans, e.pos[0], at, text) : { pos: at(e.pos[0]), path: '' };
    return { file, ...where.pos, path: where.path, message: `YAML: ${e.message.split('\n')[0] ?? e.code}` };
  });
  const duplicates = duplicateKeys(doc).map((offset) => ({ file, ...at(offset), path: '', message: 'YAML: Map keys must be unique' }));
  if (syntax.length + duplicates.length > 0) fail([...syntax, ...duplicates]);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // Alias failures (undefined anchor, alias bombs) are thrown by toJS without a position: find the alias.
    fail([{ file, ...at(aliasOffset(doc, err)), path: '', message: `YAML: ${(err as Error).message.split('\n')[0] ?? 'cannot read the document'}` }]);
  }
  const index = new MapIndex();
  const locate = (path: readonly PropertyKey[], key?: string): { line: number; col: number } => at(nodeOffset(doc.contents, path, key, index));

  const parsed = policySchema.safeParse(raw ?? {});
  if (!parsed.success) fail(parsed.error.issues.flatMap((i) => issueToErrors(i, file, locate)));
  const policy = (parsed as { data: PolicyDoc }).data;
  const problems: PolicyProblem[] = crossCheck(policy);
  if (problems.length > 0) fail(problems.map((p) => ({ file, ...locate(p.path), path: p.path.join('.'), message: p.message })));
  const unwritten = unwrittenSafety(policy, raw);
  if (unwritten.length > 0) fail(unwritten.map((p) => ({ file, ...locate(p.path), path: p.path.join('.'), message: p.message })));
  return policy;
}

/**
 * Settings whose default is weaker than what a real account should run with. For `cloud.kind: aws`
 * each must be written out, so a policy truncated mid-file (or missing a block) fails instead of
 * quietly falling back to the default. The simulated cloud keeps its defaults.
 */
export const EXPLICIT_SAFETY: readonly (readonly string[])[] = [
  ['safety', 'killSwitch'],
  ['safety', 'killSwitchParameter'],
  ['safety', 'maxActionsPerHour'],
  ['approval', 'ttl'],
];

function unwrittenSafety(policy: PolicyDoc, raw: unknown): PolicyProblem[] {
  if (policy.cloud.kind === 'sim') return [];
  const has = (path: readonly string[]): boolean => {
    let v: unknown = raw;
    for (const k of path) {
      if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, k)) return false;
      v = (v as Record<string, unknown>)[k];
    }
    return true;
  };
  return EXPLICIT_SAFETY.filter((p) => !has(p)).map((p) => ({
    path: p,
    message: `required for cloud.kind: aws (write it out; a default here could weaken safety${p[1] === 'killSwitchParameter' ? '; null = no SSM kill switch' : ''})`,
  }));
}

/** Offsets of every key that repeats an earlier key of the same map (one pass, a Set per map). */
function duplicateKeys(doc: Document): number[] {
  const out: number[] = [];
  visit(doc, {
    Map(_k, map) {
      const seen = new Set<string>();
      for (const p of map.items) {
        if (!isScalar(p.key)) continue;
        const k = String(p.key.value);
        if (seen.has(k)) out.push(p.key.range?.[0] ?? 0);
        else seen.add(k);
      }
    },
  });
  return out;
}

interface NodeSpan {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  /** A quoted scalar or a flow collection: something a missing quote or bracket leaves open. */
  readonly closable: boolean;
}

/** Every value node with its key path and source range, depth first. */
function nodeSpans(node: unknown, path: readonly string[], out: NodeSpan[]): NodeSpan[] {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  const closable = isScalar(node) ? node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' : Boolean((node as { flow?: boolean } | null)?.flow);
  if (range) out.push({ path: path.join('.'), start: range[0], end: range[1], closable });
  if (isMap(node)) {
    for (const p of node.items) nodeSpans(p.value, [...path, isScalar(p.key) ? String(p.key.value) : '?'], out);
  } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
    (node as { items: unknown[] }).items.forEach((item, n) => nodeSpans(item, [...path, String(n)], out));
  }
  return out;
}

/**
 * Where to report a YAML syntax error, and under which key. The parser notices an unclosed quote or
 * bracket only where the next line (or the file) begins, at its indentation; the mistake is where that construct opened,
 * so an error at a line start is moved to the start of the innermost value that runs up to it.
 */
function syntaxErrorSite(spans: readonly NodeSpan[], offset: number, at: (o: number) => { line: number; col: number }, text: string): { pos: { line: number; col: number }; path: string } {
  const here = at(offset);
  // "Where a line begins" is its first non-blank: inside a list item the next line is indented.
  const lineStart = /^[ \t]*$/.test(text.slice(offset - (here.col - 1), offset));
  let inner: NodeSpan | undefined;
  for (const s of spans) {
    if (s.start < offset && offset <= s.end && (!inner || s.start >= inner.start)) inner = s;
  }
  if (!inner) return { pos: here, path: '' };
  const opened = at(inner.start);
  return { pos: inner.closable && lineStart && opened.line < here.line ? opened : here, path: inner.path };
}

/** The first alias that cannot be resolved, else the first alias of all (an alias bomb), else the start. */
function aliasOffset(doc: Document, err: unknown): number {
  let unresolved: number | undefined;
  let first: number | undefined;
  visit(doc, {
    Alias(_k, node) {
      const offset = node.range?.[0] ?? 0;
      first ??= offset;
      if (unresolved === undefined && node.resolve(doc) === undefined) unresolved = offset;
    },
  });
  const isUnresolved = err instanceof Error && /unresolved alias/i.test(err.message);
  return (isUnresolved ? unresolved : undefined) ?? first ?? 0;
}

/** Keeps the first MAX_LISTED_ERRORS problems and says how many more there were. */
function capErrors(errors: PolicyError[], file: string): PolicyError[] {
  if (errors.length <= MAX_LISTED_ERRORS) return errors;
  const last = errors[MAX_LISTED_ERRORS - 1]!;
  return [...errors.slice(0, MAX_LISTED_ERRORS), { file, line: last.line, col: last.col, path: '', message: `… and ${errors.length - MAX_LISTED_ERRORS} more problems` }];
}

/** Key → pair lookup per YAML map, built once: locating N keys in one map is then linear, not N². */
class MapIndex {
  private readonly maps = new WeakMap<object, Map<string, Pair>>();
  pair(map: { items: unknown[] }, key: string): Pair | undefined {
    let m = this.maps.get(map);
    if (!m) {
      m = new Map();
      for (const p of map.items) {
        if (isPair(p) && isScalar(p.key) && !m.has(String(p.key.value))) m.set(String(p.key.value), p);
      }
      this.maps.set(map, m);
    }
    return m.get(key);
  }
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
export function nodeOffset(root: Node | null, path: readonly PropertyKey[], key?: string, index = new MapIndex()): number {
  let node: Node | null = root;
  let offset = node?.range?.[0] ?? 0;
  const steps = key === undefined ? path : [...path, key];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const isLast = i === steps.length - 1;
    if (!node) break;
    if (isMap(node)) {
      const pair = index.pair(node, String(step));
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

/** LINE:COL of a path in a policy file on disk (for problems found after loading); 1:1 when unreadable. */
export function locateInPolicyFile(file: string, path: readonly PropertyKey[]): { line: number; col: number } {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
    return lineCounter.linePos(nodeOffset(doc.contents, path));
  } catch {
    return { line: 1, col: 1 };
  }
}
