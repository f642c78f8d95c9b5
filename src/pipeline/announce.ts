import { errorMessage } from '../core/errors.js';
import type { Announcement } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import type { Incident } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from './context.js';

/**
 * Tells every notifier. A failing channel is logged and audited, never fatal: the web page and CLI
 * always show the truth from the store.
 */
export async function announce(deps: PipelineDeps, ctx: CycleContext, inc: Incident, kind: Announcement['kind'], title: string): Promise<void> {
  const a: Announcement = {
    kind,
    incidentId: inc.id,
    title: `[${inc.service}] ${title}`.slice(0, 200),
    text: inc.reason,
    url: `${deps.publicUrl}/incidents/${encodeURIComponent(inc.id)}`,
    state: inc.state,
  };
  for (const n of deps.notifiers) {
    try {
      await n.announce(a, ctx.signal);
    } catch (err) {
      deps.logger.warn({ incidentId: inc.id, stage: 'announce', channel: n.channel, err: errorMessage(err) }, 'announcement failed');
      await deps.store.appendAudit({ at: ctx.now as EpochMs, incidentId: inc.id, kind: 'announce.failed', actor: 'watcher', data: { channel: n.channel, kind, error: errorMessage(err).slice(0, 500) } });
    }
  }
}
