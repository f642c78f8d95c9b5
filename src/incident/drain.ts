/**
 * A Drain log template miner (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth
 * Tree", ICWS 2017), as Drain3 implements it:
 *
 * 1. pre-masking: ids, numbers, addresses … are replaced by typed placeholders (<UUID>, <IP>, <NUM> …);
 * 2. the masked line is split into tokens; a fixed-depth prefix tree routes it by token count, then by
 *    its first `depth - 2` tokens (a token with a digit or placeholder goes down the <*> branch, so
 *    variable prefixes do not blow the tree up);
 * 3. in the leaf, the most similar cluster (share of positions with equal tokens) takes the line if the
 *    similarity reaches `similarity`; positions that differ become <*> in its template;
 *    otherwise the line starts a new cluster.
 *
 * Bounded memory: at most `maxChildren` children per tree node (the rest share <*>) and at most
 * `maxClusters` clusters (the least recently matched one is evicted). Pure and deterministic.
 */

export const WILDCARD = '<*>';

/** Typed placeholders for variable parts, applied before tokenizing (order matters). */
const MASKS: readonly [RegExp, string][] = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g, '<TS>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<UUID>'],
  [/\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b/gi, '<IP>'],
  [/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])/g, '<IP>'],
  [/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi, '<MAC>'],
  [/\b0x[0-9a-f]+\b/gi, '<HEX>'],
  // Long hex runs with at least one digit and one letter (commit ids, trace ids, request ids).
  [/\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<HEX>'],
  // Numbers with a unit glued on (12ms, 3.5s, 512MB, 99%), decimals, and integers of 4+ digits.
  // Integers of 1-3 digits stay: they are often categories (HTTP status 500, exit code 137) and Drain
  // masks them as <*> anyway when they vary within an event.
  [/(?<![A-Za-z0-9_<])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:ms|us|µs|ns|s|m|h|d|b|kb|mb|gb|kib|mib|gib|%)(?![A-Za-z0-9_])/gi, '<NUM>'],
  [/(?<![A-Za-z0-9_<])[-+]?(?:\d+\.\d+(?:[eE][-+]?\d+)?|\d{4,})(?![A-Za-z0-9_])/g, '<NUM>'],
];

/** The line with its variable parts replaced by typed placeholders. */
export function preMask(line: string): string {
  let out = line;
  for (const [re, rep] of MASKS) out = out.replace(re, rep);
  return out;
}

export function tokenize(masked: string): string[] {
  return masked.trim().split(/\s+/).filter((t) => t.length > 0);
}

export interface DrainOptions {
  /** Tree depth including the root and the length level; default 4 (two prefix tokens). */
  readonly depth?: number;
  /** Share of equal positions a line needs to join a cluster; default 0.4. */
  readonly similarity?: number;
  readonly maxChildren?: number;
  readonly maxClusters?: number;
  /** Lines longer than this many tokens are cut (bounded work per line); default 64. */
  readonly maxTokens?: number;
}

export interface Cluster {
  readonly id: number;
  tokens: string[];
  size: number;
  /** Logical time of the last match (for least-recently-used eviction). */
  lastSeen: number;
}

interface Node {
  readonly children: Map<string, Node>;
  clusterIds: number[];
}

const node = (): Node => ({ children: new Map(), clusterIds: [] });
const hasDigitOrMask = (t: string): boolean => /\d/.test(t) || /^<[A-Z*]+>$/.test(t);

export class Drain {
  private readonly depth: number;
  private readonly similarity: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;
  private readonly maxTokens: number;
  private readonly root = node();
  private readonly clusters = new Map<number, Cluster>();
  private nextId = 1;
  private tick = 0;
  /** Clusters evicted to stay under maxClusters. */
  evicted = 0;

  constructor(opts: DrainOptions = {}) {
    this.depth = opts.depth ?? 4;
    this.similarity = opts.similarity ?? 0.4;
    this.maxChildren = opts.maxChildren ?? 100;
    this.maxClusters = opts.maxClusters ?? 1000;
    this.maxTokens = opts.maxTokens ?? 64;
    if (!Number.isInteger(this.depth) || this.depth < 3) throw new RangeError(`Drain depth must be an integer >= 3, got ${this.depth}`);
    if (!(this.similarity > 0 && this.similarity <= 1)) throw new RangeError(`Drain similarity must be in (0, 1], got ${this.similarity}`);
    if (!Number.isInteger(this.maxChildren) || this.maxChildren < 2) throw new RangeError(`Drain maxChildren must be an integer >= 2, got ${this.maxChildren}`);
    if (!Number.isInteger(this.maxClusters) || this.maxClusters < 1) throw new RangeError(`Drain maxClusters must be a positive integer, got ${this.maxClusters}`);
  }

  get clusterCount(): number {
    return this.clusters.size;
  }

  cluster(id: number): Cluster | undefined {
    return this.clusters.get(id);
  }

  template(id: number): string {
    return this.clusters.get(id)?.tokens.join(' ') ?? '';
  }

  /** Adds one raw log line; returns its cluster and the line's masked tokens. */
  add(line: string): { cluster: Cluster; tokens: string[] } {
    const tokens = tokenize(preMask(line)).slice(0, this.maxTokens);
    this.tick++;
    const leaf = this.leafFor(tokens);
    const found = this.bestMatch(leaf, tokens);
    if (found) {
      found.size++;
      found.lastSeen = this.tick;
      found.tokens = found.tokens.map((t, i) => (t === tokens[i] ? t : WILDCARD));
      return { cluster: found, tokens };
    }
    if (this.clusters.size >= this.maxClusters) this.evictOne();
    const cluster: Cluster = { id: this.nextId++, tokens: [...tokens], size: 1, lastSeen: this.tick };
    this.clusters.set(cluster.id, cluster);
    leaf.clusterIds.push(cluster.id);
    return { cluster, tokens };
  }

  private leafFor(tokens: readonly string[]): Node {
    let cur = this.child(this.root, String(tokens.length), true);
    const prefix = Math.min(this.depth - 2, tokens.length);
    for (let i = 0; i < prefix; i++) {
      const t = tokens[i] ?? '';
      cur = this.child(cur, hasDigitOrMask(t) ? WILDCARD : t, false);
    }
    return cur;
  }

  /** The child for `key`, created if there is room; past maxChildren, lines share the <*> child. */
  private child(parent: Node, key: string, unlimited: boolean): Node {
    const existing = parent.children.get(key);
    if (existing) return existing;
    if (!unlimited && key !== WILDCARD && parent.children.size >= this.maxChildren - 1) {
      const wild = parent.children.get(WILDCARD) ?? node();
      parent.children.set(WILDCARD, wild);
      return wild;
    }
    const n = node();
    parent.children.set(key, n);
    return n;
  }

  private bestMatch(leaf: Node, tokens: readonly string[]): Cluster | null {
    let best: Cluster | null = null;
    let bestSim = -1;
    let bestParams = -1;
    for (const id of leaf.clusterIds) {
      const c = this.clusters.get(id);
      if (!c || c.tokens.length !== tokens.length) continue;
      let same = 0;
      let params = 0;
      c.tokens.forEach((t, i) => {
        if (t === WILDCARD) params++;
        else if (t === tokens[i]) same++;
      });
      const sim = tokens.length === 0 ? 1 : same / tokens.length;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
      }
    }
    return best && bestSim >= this.similarity ? best : null;
  }

  private evictOne(): void {
    let victim: Cluster | null = null;
    for (const c of this.clusters.values()) if (!victim || c.lastSeen < victim.lastSeen) victim = c;
    if (!victim) return;
    this.clusters.delete(victim.id);
    this.evicted++;
    const drop = (n: Node): void => {
      n.clusterIds = n.clusterIds.filter((id) => id !== victim?.id);
      for (const c of n.children.values()) drop(c);
    };
    drop(this.root);
  }
}
