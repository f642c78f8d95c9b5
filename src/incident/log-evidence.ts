import type { LogRecord } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import { redact } from '../core/redact.js';
import { Drain, WILDCARD, preMask, type DrainOptions } from './drain.js';
import type { LogEvidence, LogTemplateEvidence } from './incident.js';

/** The line with its variable parts (ids, numbers, addresses, times) masked: see `preMask`. */
export const templateOf = preMask;

export interface EvidenceInput {
  readonly groups: readonly string[];
  readonly records: readonly LogRecord[];
  readonly baseline: { readonly start: EpochMs; readonly end: EpochMs };
  readonly onset: { readonly start: EpochMs; readonly end: EpochMs };
  /** At most this many templates are reported; default 5. */
  readonly maxTemplates?: number;
  /** A template needs at least this many lines after the onset to be reported; default 2. */
  readonly minCount?: number;
  /** Rate after / rate before (per minute) at which a known template counts as grown sharply; default 3. */
  readonly growth?: number;
  readonly drain?: DrainOptions;
}

/** A wildcard position with at most this many distinct values is categorical (a status code, a level). */
const MAX_CATEGORIES = 8;
const MAX_SAMPLES = 3;

interface Line {
  readonly t: number;
  readonly cluster: number;
  readonly tokens: readonly string[];
  readonly message: string;
  readonly onset: boolean;
}

type Found = LogTemplateEvidence & { readonly growth: number };

/**
 * Log templates that are new after the onset, or grew sharply compared with the baseline window (rates
 * per minute), with counts and a few redacted samples. Templates are mined with Drain over both windows
 * together, so the same event has the same template before and after. When a known template only changed
 * in one categorical field (the status code 200 → 500, the level INFO → ERROR), the template is reported
 * with that value, e.g. `GET /cart/<NUM> 500 in <NUM>`, not as the old template that merely grew.
 * Pure; memory bounded by the input and Drain's cluster cap.
 */
export function logEvidence(input: EvidenceInput): LogEvidence {
  const minCount = input.minCount ?? 2;
  const growthMin = input.growth ?? 3;
  const drain = new Drain({ maxClusters: 2000, ...input.drain });
  const inWindow = (t: number, w: { start: number; end: number }): boolean => t >= w.start && t < w.end;
  const lines: Line[] = [];
  const sorted = input.records.filter((r) => inWindow(r.t, input.baseline) || inWindow(r.t, input.onset)).sort((a, b) => a.t - b.t);
  // Final templates, remembered for clusters that get evicted later in the run.
  const templates = new Map<number, string[]>();
  for (const r of sorted) {
    const { cluster, tokens } = drain.add(r.message);
    templates.set(cluster.id, cluster.tokens);
    lines.push({ t: r.t, cluster: cluster.id, tokens, message: r.message, onset: inWindow(r.t, input.onset) });
  }
  const baseMin = Math.max(1, (input.baseline.end - input.baseline.start) / 60_000);
  const onsetMin = Math.max(1, (input.onset.end - input.onset.start) / 60_000);
  const growthOf = (b: number, o: number): number => o / onsetMin / ((b + 0.5) / baseMin);

  const byCluster = new Map<number, Line[]>();
  for (const l of lines) byCluster.set(l.cluster, [...(byCluster.get(l.cluster) ?? []), l]);

  const found: Found[] = [];
  for (const [id, group] of byCluster) {
    const tokens = templates.get(id) ?? [];
    const b = group.filter((l) => !l.onset).length;
    const o = group.length - b;
    if (o < minCount) continue;
    const growth = growthOf(b, o);
    const grew = b === 0 || growth >= growthMin;
    // A categorical value is the story when it is new, or when the template as a whole did not grow
    // (200s steady, 500s up); when the whole template grew evenly, the template is.
    const variants = b > 0 ? categoricalChanges(tokens, group, minCount, growthOf, growthMin).filter((v) => v.isNew || !grew) : [];
    if (variants.length > 0) found.push(...variants);
    else if (grew) found.push(evidence(tokens, group, b, o, growth));
  }
  found.sort((a, b) => Number(b.isNew) - Number(a.isNew) || b.growth - a.growth || b.onsetCount - a.onsetCount);
  return {
    groups: input.groups,
    baseline: { ...input.baseline, lines: lines.filter((l) => !l.onset).length },
    onset: { ...input.onset, lines: lines.filter((l) => l.onset).length },
    templates: found.slice(0, input.maxTemplates ?? 5).map((f) => ({ ...f, growth: Math.round(f.growth * 10) / 10 })),
  };
}

function evidence(tokens: readonly string[], group: readonly Line[], b: number, o: number, growth: number): Found {
  const samples = group.filter((l) => l.onset).slice(0, MAX_SAMPLES).map((l) => redact(l.message).slice(0, 300));
  return { template: redact(tokens.join(' ')).slice(0, 300), baselineCount: b, onsetCount: o, isNew: b === 0, samples, growth };
}

/**
 * Values of a categorical wildcard position of a known template that are new after the onset or grew
 * sharply, each reported as the template with that value filled in.
 */
function categoricalChanges(tokens: readonly string[], group: readonly Line[], minCount: number, growthOf: (b: number, o: number) => number, growthMin: number): Found[] {
  let best: Found[] = [];
  const score = (fs: readonly Found[]): number => fs.reduce((m, f) => Math.max(m, f.isNew ? Infinity : f.growth), 0);
  tokens.forEach((tok, pos) => {
    const out: Found[] = [];
    if (tok !== WILDCARD) return;
    const counts = new Map<string, { b: number; o: number; lines: Line[] }>();
    for (const l of group) {
      const v = l.tokens[pos] ?? '';
      const c = counts.get(v) ?? { b: 0, o: 0, lines: [] };
      if (l.onset) c.o++;
      else c.b++;
      c.lines.push(l);
      counts.set(v, c);
      if (counts.size > MAX_CATEGORIES) return;
    }
    if (counts.size > MAX_CATEGORIES || counts.size < 2) return;
    for (const [value, c] of counts) {
      if (c.o < minCount) continue;
      const growth = growthOf(c.b, c.o);
      if (c.b > 0 && growth < growthMin) continue;
      const filled = tokens.map((t, i) => (i === pos ? value : t));
      out.push(evidence(filled, c.lines, c.b, c.o, growth));
    }
    // One position only (the most telling), so no line is counted twice.
    if (out.length > 0 && score(out) > score(best)) best = out;
  });
  return best;
}
