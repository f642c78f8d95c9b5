/**
 * One mute abstraction for everything that tells the watcher to keep quiet or to expect no change:
 *
 * - silence      — created by a person (CLI / API) for a service, optionally one metric, for a while;
 * - maintenance  — a policy `maintenance` window: planned work on some (or all) services;
 * - freeze       — a policy `freezes` window: no deployments are expected to those services.
 *
 * All three answer `mutes(sources, labels, now)`: the windows that match a service/metric at a moment,
 * each with its kind, id and reason. What each kind does (see `MUTES_NOTIFICATIONS`):
 *
 * - silences and maintenance windows work like Alertmanager silences: a matching anomaly is still
 *   detected, grouped and recorded as an incident (with the mute that muted it, in `incident.mutes`
 *   and the audit trail), but nobody is notified and nothing is proposed while the mute lasts. When it
 *   ends and the problem is still there, the incident goes on as usual (correlate, propose, notify);
 *   when the problem cleared meanwhile, the incident is withdrawn without ever notifying anyone.
 * - a deployment freeze mutes nothing. For a watcher its useful meaning is the opposite: a deployment
 *   that lands during a freeze was not expected, so correlation names the freeze among the suspect's
 *   reasons and ranks such a deployment a little higher. It does NOT block actions: the actions the
 *   watcher proposes (a rollback to the last good execution, a restart) restore the pre-freeze state,
 *   the usual exemption of change freezes, and every action still needs human approval.
 *
 * Pure: callers pass `now` and the data (silences from the store, windows from the policy).
 */
import type { EpochMs } from '../core/time.js';
import type { MuteRecord } from '../incident/incident.js';

export type MuteKind = 'silence' | 'maintenance' | 'freeze';

/** A silence as stored (same shape as the store's `Silence`). */
export interface SilenceLike {
  readonly id: string;
  /** Label matchers; every one must match: `service`, optionally `metric` (metric name or policy id). */
  readonly matchers: Readonly<Record<string, string>>;
  readonly author: string;
  readonly reason: string;
  readonly startsAt: number;
  readonly endsAt: number;
}

/** A policy window (`maintenance` or `freezes` entry). */
export interface PolicyWindow {
  readonly name: string;
  /** Empty: every service. */
  readonly services: readonly string[];
  /** ISO 8601 with offset. */
  readonly start: string;
  readonly end: string;
  readonly reason: string;
}

export interface MuteSources {
  readonly silences: readonly SilenceLike[];
  readonly maintenance: readonly PolicyWindow[];
  readonly freezes: readonly PolicyWindow[];
}

/** What is being asked about: an anomaly of a service's metric, or the service as a whole. */
export interface MuteLabels {
  readonly service: string;
  /** The metric name (e.g. HTTPCode_Target_5XX_Count). */
  readonly metric?: string;
  /** The metric's policy id (e.g. checkout5xx). */
  readonly metricId?: string;
}

export interface Mute {
  readonly kind: MuteKind;
  /** `sil-…` for silences, `maintenance:NAME` / `freeze:NAME` for policy windows. */
  readonly id: string;
  readonly reason: string;
  /** Who created it: a person for a silence, "policy" for a window. */
  readonly author: string;
  readonly startsAt: EpochMs;
  readonly endsAt: EpochMs;
}

/** The kinds that suppress notifications and proposals (freezes do not: see the module comment). */
export const MUTES_NOTIFICATIONS: ReadonlySet<MuteKind> = new Set<MuteKind>(['silence', 'maintenance']);

/** A policy window's time bounds; throws on a window whose times do not parse or end before they start. */
export function windowBounds(w: PolicyWindow): { start: EpochMs; end: EpochMs } {
  const start = Date.parse(w.start);
  const end = Date.parse(w.end);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new MuteError(`window "${w.name}": start and end must be ISO 8601 times with an offset`);
  if (end <= start) throw new MuteError(`window "${w.name}": end (${w.end}) is not after start (${w.start})`);
  return { start: start as EpochMs, end: end as EpochMs };
}

/** A bad mute request or window, with the HTTP status that fits it (400 bad input, 404 unknown id, 409 conflict). */
export class MuteError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
    this.name = 'MuteError';
  }
}

function silenceMatches(s: SilenceLike, labels: MuteLabels): boolean {
  for (const [key, want] of Object.entries(s.matchers)) {
    if (key === 'service') {
      if (labels.service !== want) return false;
    } else if (key === 'metric') {
      // A metric matcher matches the metric name or the policy id; asked about the service as a
      // whole (no metric), a metric-scoped silence does not match.
      if (labels.metric !== want && labels.metricId !== want) return false;
    } else return false; // unknown label: never matches rather than matching too much
  }
  return true;
}

const windowMatches = (w: PolicyWindow, service: string): boolean => w.services.length === 0 || w.services.includes(service);

/**
 * Every mute in force at `now` that matches the labels (start inclusive, end exclusive), silences first,
 * then maintenance, then freezes; each group ordered by id.
 */
export function mutes(src: MuteSources, labels: MuteLabels, now: number): Mute[] {
  const out: Mute[] = [];
  for (const s of [...src.silences].sort((a, b) => a.id.localeCompare(b.id))) {
    if (now >= s.startsAt && now < s.endsAt && silenceMatches(s, labels)) {
      out.push({ kind: 'silence', id: s.id, reason: s.reason, author: s.author, startsAt: s.startsAt as EpochMs, endsAt: s.endsAt as EpochMs });
    }
  }
  const windows = (kind: 'maintenance' | 'freeze', list: readonly PolicyWindow[]): void => {
    for (const w of [...list].sort((a, b) => a.name.localeCompare(b.name))) {
      const { start, end } = windowBounds(w);
      if (now >= start && now < end && windowMatches(w, labels.service)) out.push({ kind, id: `${kind}:${w.name}`, reason: w.reason, author: 'policy', startsAt: start, endsAt: end });
    }
  };
  windows('maintenance', src.maintenance);
  windows('freeze', src.freezes);
  return out;
}

/** The mutes at `now` that suppress notifications for these labels (silences and maintenance). */
export function notificationMutes(src: MuteSources, labels: MuteLabels, now: number): Mute[] {
  return mutes(src, labels, now).filter((m) => MUTES_NOTIFICATIONS.has(m.kind));
}

/** The deployment freeze of `service` in force at time `t`, if any (the first by name). */
export function freezeAt(src: Pick<MuteSources, 'freezes'>, service: string, t: number): Mute | null {
  return mutes({ silences: [], maintenance: [], freezes: src.freezes }, { service }, t)[0] ?? null;
}

/**
 * Whether a group of signals (one incident) is muted at `now`: every signal must be muted by a
 * silence or maintenance window (Alertmanager notifies a group when any alert in it is not silenced).
 * Returns the mutes that apply, one entry per muted metric; empty when the group is not muted.
 */
export function groupMutes(src: MuteSources, service: string, metrics: readonly { readonly metricId: string; readonly metricName: string }[], now: number): { metricId: string; mute: Mute }[] {
  if (metrics.length === 0) return [];
  const out: { metricId: string; mute: Mute }[] = [];
  for (const m of metrics) {
    const found = notificationMutes(src, { service, metric: m.metricName, metricId: m.metricId }, now);
    if (found.length === 0) return [];
    for (const mute of found) out.push({ metricId: m.metricId, mute });
  }
  return out;
}

/** One record per mute (with the metrics it muted), for `incident.mutes`. */
export function muteRecords(found: readonly { readonly metricId: string; readonly mute: Mute }[], at: number): MuteRecord[] {
  const byId = new Map<string, { mute: Mute; metrics: string[] }>();
  for (const f of found) {
    const e = byId.get(f.mute.id) ?? { mute: f.mute, metrics: [] };
    if (!e.metrics.includes(f.metricId)) e.metrics.push(f.metricId);
    byId.set(f.mute.id, e);
  }
  return [...byId.values()].map(({ mute, metrics }) => ({ id: mute.id, by: mute.author, kind: mute.kind, reason: mute.reason, at: at as EpochMs, until: mute.endsAt, metrics }));
}

/** "silence sil-1 by alice (deploying the new schema)", for reasons and logs. */
export function describeMute(m: { readonly kind: MuteKind; readonly id: string; readonly reason: string; readonly by?: string; readonly author?: string }): string {
  const who = m.by ?? m.author ?? '';
  return m.kind === 'silence' ? `silence ${m.id} by ${who} (${m.reason})` : `${m.kind} window ${m.id.slice(m.id.indexOf(':') + 1)} (${m.reason})`;
}
