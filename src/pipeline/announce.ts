import { errorMessage } from '../core/errors.js';
import type { Announcement } from '../cloud/ports.js';
import type { Incident } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { updateValue } from '../store/update-value.js';

/** Channels that show the truth from the store without being told (the web page and the CLI). */
const STORE_CHANNELS = new Set(['web', 'cli']);
/** A final announcement that failed on a channel, kept for `retryFailedAnnouncements`. */
export interface PendingAnnouncement {
  readonly incidentId: string;
  readonly channel: string;
  readonly title: string;
  readonly attempts: number;
}
export const PENDING_ANNOUNCEMENTS_KEY = 'announce.pending';
/** A final announcement is retried this many times (once per cycle), then given up and audited. */
export const MAX_ANNOUNCE_ATTEMPTS = 5;

function announcement(deps: PipelineDeps, inc: Incident, kind: Announcement['kind'], title: string): Announcement {
  return {
    kind,
    incidentId: inc.id,
    title: `[${inc.service}] ${title}`.slice(0, 200),
    text: inc.reason,
    url: `${deps.publicUrl}/incidents/${encodeURIComponent(inc.id)}`,
    state: inc.state,
  };
}

/**
 * Tells every notifier. A failing channel is logged and audited, never fatal: the web page and CLI
 * always show the truth from the store. A final state (rejected, expired — not executed, resolved …)
 * must reach every channel the request went to: a failed one is kept and retried on later cycles
 * (`retryFailedAnnouncements`), and a channel the request went to that has no notifier any more is
 * audited.
 */
export async function announce(deps: PipelineDeps, ctx: CycleContext, inc: Incident, kind: Announcement['kind'], title: string): Promise<void> {
  const a = announcement(deps, inc, kind, title);
  const failed: string[] = [];
  for (const n of deps.notifiers) {
    try {
      await n.announce(a, ctx.signal);
    } catch (err) {
      failed.push(n.channel);
      deps.logger.warn({ incidentId: inc.id, stage: 'announce', channel: n.channel, err: errorMessage(err) }, 'announcement failed');
      await deps.store.appendAudit({ at: ctx.now, incidentId: inc.id, kind: 'announce.failed', actor: 'watcher', data: { channel: n.channel, kind, error: errorMessage(err).slice(0, 500) } });
    }
  }
  if (kind !== 'final') return;
  if (failed.length) {
    // Compare-and-set: an entry another writer added meanwhile is kept.
    await updateValue<PendingAnnouncement[]>(deps.store, PENDING_ANNOUNCEMENTS_KEY, (pending) => [
      ...(pending ?? []).filter((p) => !(p.incidentId === inc.id && failed.includes(p.channel))),
      ...failed.map((channel) => ({ incidentId: inc.id, channel, title, attempts: 1 })),
    ]);
  }
  const present = new Set(deps.notifiers.map((n) => n.channel));
  for (const ch of inc.approval?.channels ?? []) {
    if (STORE_CHANNELS.has(ch) || present.has(ch)) continue;
    deps.logger.warn({ incidentId: inc.id, stage: 'announce', channel: ch }, 'the request went to a channel that is no longer configured');
    await deps.store.appendAudit({ at: ctx.now, incidentId: inc.id, kind: 'announce.failed', actor: 'watcher', data: { channel: ch, kind, error: 'no notifier is configured for this channel any more' } });
  }
}

/**
 * Retries final announcements that failed (call once per cycle). Each is sent again with the
 * incident's current state, at most MAX_ANNOUNCE_ATTEMPTS times in all; then it is given up and
 * audited as `announce.abandoned`. Returns how many are still pending.
 */
export async function retryFailedAnnouncements(deps: PipelineDeps, ctx: CycleContext): Promise<number> {
  const pending = (await deps.store.getValue<PendingAnnouncement[]>(PENDING_ANNOUNCEMENTS_KEY)) ?? [];
  if (pending.length === 0) return 0;
  const still: PendingAnnouncement[] = [];
  for (const p of pending) {
    const inc = await deps.store.getIncident(p.incidentId);
    const n = deps.notifiers.find((x) => x.channel === p.channel);
    if (!inc || !n) continue;
    try {
      await n.announce(announcement(deps, inc, 'final', p.title), ctx.signal);
      await deps.store.appendAudit({ at: ctx.now, incidentId: inc.id, kind: 'announce.retried', actor: 'watcher', data: { channel: p.channel, attempts: p.attempts + 1 } });
    } catch (err) {
      const attempts = p.attempts + 1;
      if (attempts < MAX_ANNOUNCE_ATTEMPTS) still.push({ ...p, attempts });
      else {
        deps.logger.error({ incidentId: inc.id, stage: 'announce', channel: p.channel, err: errorMessage(err) }, 'final announcement abandoned');
        await deps.store.appendAudit({ at: ctx.now, incidentId: inc.id, kind: 'announce.abandoned', actor: 'watcher', data: { channel: p.channel, attempts, error: errorMessage(err).slice(0, 500) } });
      }
    }
  }
  // Only the entries tried here are replaced; one added meanwhile (a final announcement that failed) stays.
  const tried = new Set(pending.map(pendingKey));
  const left = await updateValue<PendingAnnouncement[]>(deps.store, PENDING_ANNOUNCEMENTS_KEY, (cur) => [...(cur ?? []).filter((p) => !tried.has(pendingKey(p))), ...still]);
  return left.length;
}

const pendingKey = (p: PendingAnnouncement): string => `${p.incidentId}\u0000${p.channel}`;
