import type { Incident, MuteRecord } from '../incident/incident.js';
import { groupMutes, muteRecords, type Mute, type MuteSources } from '../mute/mutes.js';

/**
 * The silences and maintenance windows muting every active signal of an incident at `now` (all its
 * signals once they have all cleared), and which of them the incident has not recorded yet (a mute is
 * the same when its id, metrics and end are). Pure.
 */
export function incidentMutes(sources: MuteSources, inc: Incident, now: number): { found: { metricId: string; mute: Mute }[]; fresh: MuteRecord[] } {
  const active = inc.signals.filter((s) => s.clearedAt === null);
  const found = groupMutes(sources, inc.service, active.length > 0 ? active : inc.signals, now);
  const key = (m: MuteRecord): string => `${m.id} ${m.metrics.join(',')} ${m.until}`;
  const known = new Set(inc.mutes.map(key));
  return { found, fresh: muteRecords(found, now).filter((m) => !known.has(key(m))) };
}

/** The audit's view of mute records. */
export const muteAuditData = (ms: readonly MuteRecord[]): Record<string, unknown>[] => ms.map((m) => ({ id: m.id, kind: m.kind, by: m.by, reason: m.reason, until: m.until, metrics: m.metrics }));
