import { MINUTE, type EpochMs } from '../core/time.js';
import type { LogTemplateEvidence } from './incident.js';

/**
 * A release of a service this one calls — directly or through others — can break it, but only when the
 * dependency (or a service between them) shows trouble of its own: an anomaly near the onset, or new
 * log lines of the affected service that name it. Otherwise the dependency's release is a coincidence.
 */

/** How far apart a dependency's own anomaly and this one may begin to count as the same trouble. */
const TROUBLE_MS = 15 * MINUTE;
const MAX_HOPS = 3;

/**
 * The call path from `service` to one of `targets` through `dependsOn` (breadth first, ≤ 3 hops):
 * `[service, …, target]`, or null when `service` does not depend on any of them.
 */
export function dependencyPath(service: string, targets: readonly string[], dependsOn: ReadonlyMap<string, readonly string[]> | undefined): string[] | null {
  if (!dependsOn) return null;
  let frontier: string[][] = [[service]];
  const seen = new Set([service]);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const next: string[][] = [];
    for (const path of frontier) {
      for (const d of dependsOn.get(path[path.length - 1] ?? '') ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        const p = [...path, d];
        if (targets.includes(d)) return p;
        next.push(p);
      }
    }
    frontier = next;
  }
  return null;
}

/** Whether a log template (or one of its sample lines) names a service as a word ("calling payments", "payments.internal"). */
export function namesService(t: LogTemplateEvidence, service: string): boolean {
  const re = new RegExp(`(^|[^A-Za-z0-9_-])${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`, 'i');
  return re.test(t.template) || t.samples.some((s) => re.test(s));
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export interface TroubleInput {
  readonly onsetAt: EpochMs;
  readonly otherOnsets: readonly { readonly service: string; readonly onsetAt: EpochMs }[];
  readonly logTemplates?: readonly LogTemplateEvidence[];
}

/** The trouble one service shows of its own, in plain words, or null. Log lines naming it come first. */
export function troubleOf(service: string, input: TroubleInput): { readonly reason: string; readonly named: boolean } | null {
  const named = (input.logTemplates ?? []).find((t) => namesService(t, service));
  if (named) return { reason: `new log lines name ${service}: "${clip(named.template, 100)}" (${named.baselineCount} → ${named.onsetCount})`, named: true };
  const own = input.otherOnsets.find((o) => o.service === service && Math.abs(o.onsetAt - input.onsetAt) <= TROUBLE_MS);
  if (own) {
    const d = Math.round((own.onsetAt - input.onsetAt) / MINUTE);
    const when = d === 0 ? 'at the same minute' : `${Math.abs(d)} min ${d < 0 ? 'before' : 'after'} this one`;
    return { reason: `${service} itself shows trouble: its own anomaly began ${when}`, named: false };
  }
  return null;
}
