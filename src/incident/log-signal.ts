import type { LogRecord } from '../cloud/ports.js';
import { MINUTE, type EpochMs } from '../core/time.js';
import type { MetricEvent } from './grouping.js';
import { templateOf } from './log-evidence.js';

/**
 * Logs as a detection input: an error template never seen in the service's log history, logged at
 * least FLOOR_PER_MIN lines a minute, is a signal of its own. It goes through grouping like a metric's
 * anomaly — it can open an incident (after the minimum duration, counted in minutes) or join the open
 * one of its service. A template stops being news once it has been logged for LEARN_AFTER_MS.
 */

/** Lines per minute a new error template needs before it counts. */
export const FLOOR_PER_MIN = 2;
/** A template logged this long is part of the service's normal log. */
export const LEARN_AFTER_MS = 60 * MINUTE;
/** Known templates kept per service (the oldest are forgotten first). */
const MAX_KNOWN = 2000;
const ERRORISH = /\b(error|fatal|critical|panic|exception|traceback|refused|timed? ?out)\b|Exception\b|Error\b/i;

/** What is remembered per service between cycles. */
export interface LogSignalState {
  /** Template → first time it was seen. */
  known: Record<string, number>;
  /** End of the last minute read. */
  lastT: number | null;
}

export const emptyLogSignalState = (): LogSignalState => ({ known: {}, lastT: null });

/** FNV-1a: a short stable hash of a template. */
function fnv(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A short stable id for a template, usable as a signal's metric id. */
export const logSignalId = (service: string, template: string): string => `log_${service.replace(/[^A-Za-z0-9_]/g, '_')}_${fnv(template).toString(36)}`;

/**
 * Reads one service's log lines of whole minutes [from, to) and returns one event per minute for every
 * error template that is new (not known, or first seen less than LEARN_AFTER_MS ago): anomalous when that
 * minute has at least FLOOR_PER_MIN of its lines. Updates `state` in place. On the first read
 * (`learnOnly`), everything seen is learned as the normal log and no event is returned. Pure.
 */
export function logSignals(service: string, state: LogSignalState, records: readonly LogRecord[], from: number, to: number, learnOnly: boolean): MetricEvent[] {
  const perMinute = new Map<string, Map<number, number>>();
  for (const r of records) {
    if (r.t < from || r.t >= to) continue;
    // Every digit run is masked too (attempt 3, worker-12): a new number is not a new kind of line.
    const template = templateOf(r.message).replace(/\d+/g, '<NUM>').slice(0, 300);
    const minute = Math.floor(r.t / MINUTE) * MINUTE;
    if (state.known[template] === undefined) state.known[template] = learnOnly ? r.t - LEARN_AFTER_MS : r.t;
    if (learnOnly || !ERRORISH.test(template)) continue;
    const m = perMinute.get(template) ?? new Map<number, number>();
    m.set(minute, (m.get(minute) ?? 0) + 1);
    perMinute.set(template, m);
  }
  const events: MetricEvent[] = [];
  if (!learnOnly) {
    // Every recent error template gets an event per minute, zero lines included, so its signal can clear.
    const recent = Object.entries(state.known).filter(([t, first]) => ERRORISH.test(t) && from - first < LEARN_AFTER_MS);
    for (const [template, first] of recent) {
      const counts = perMinute.get(template) ?? new Map<number, number>();
      for (let t = Math.floor(from / MINUTE) * MINUTE; t < to; t += MINUTE) {
        if (t - first >= LEARN_AFTER_MS) continue;
        const n = counts.get(t) ?? 0;
        const anomalous = n >= FLOOR_PER_MIN;
        events.push({
          metricId: logSignalId(service, template),
          metricName: `log "${template.slice(0, 80)}"`,
          service,
          t: t as EpochMs,
          ...(anomalous ? { onsetT: Math.max(t, Math.floor(first / MINUTE) * MINUTE) as EpochMs } : {}),
          anomalous,
          direction: anomalous ? 'up' : null,
          score: Math.min(1, n / (4 * FLOOR_PER_MIN)),
          value: n,
          expected: 0,
        });
      }
    }
  }
  state.lastT = to;
  const entries = Object.entries(state.known);
  if (entries.length > MAX_KNOWN) state.known = Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_KNOWN));
  return events;
}
