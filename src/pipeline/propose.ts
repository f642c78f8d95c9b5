import type { Incident } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { eachItem, type Stage } from './stage.js';
import { moveIncident, saveIncident } from './transitions.js';
import { allCleared } from '../incident/grouping.js';
import { describeMute, type MuteSources } from '../mute/mutes.js';
import { incidentMutes, muteAuditData } from './record-mutes.js';
import { muteSources } from '../mute/silences.js';

/**
 * The owner of `detected`: an incident that waited group_wait moves to `drafting` (with its attempts
 * counted from zero) and goes on to the draft stage; a muted one (silence, maintenance window) waits
 * instead, see `heldByMute`. Bound: group_wait, or the mute's end.
 */
export function proposeStage(deps: PipelineDeps): Stage<Incident> {
  return eachItem('propose', async (ctx, inc) => {
    if (inc.state !== 'detected' || ctx.now - inc.openedAt < deps.policy.groupWaitMs) return null;
    const sources = await muteSources(deps.store, deps.policy);
    if (await heldByMute(deps, ctx, inc, sources)) return null;
    return moveIncident(deps.store, inc, 'drafting', ctx.now, 'watcher', 'gathering evidence and drafting a runbook', (n) => {
      n.drafting = { attempts: 0, startedAt: ctx.now, lastError: null };
    });
  });
}

/**
 * Alertmanager semantics for silences and maintenance windows: while every active signal of the
 * incident is muted, nothing is proposed and nobody is notified; the incident records which mute
 * muted what and why (`mutes`, audit `incident.muted`). When the mutes end with the problem still
 * there, the incident is proposed as usual (audit `incident.unmuted`); when the problem cleared while
 * muted, it is withdrawn quietly. Returns whether the incident is held back.
 */
async function heldByMute(deps: PipelineDeps, ctx: CycleContext, inc: Incident, sources: MuteSources): Promise<boolean> {
  const now = ctx.now;
  if (inc.mutes.length > 0 && allCleared(inc)) {
    const by = inc.mutes.map(describeMute).join('; ');
    await moveIncident(deps.store, inc, 'withdrawn', now, 'watcher', `the anomaly cleared while muted by ${by} — nothing proposed or notified`);
    return true;
  }
  const { found, fresh } = incidentMutes(sources, inc, now);
  if (found.length > 0) {
    if (fresh.length > 0) {
      await saveIncident(deps.store, inc, now, 'watcher', 'incident.muted', (n) => {
        n.mutes = [...n.mutes, ...fresh];
        n.reason = `muted by ${fresh.map(describeMute).join('; ')} — recorded, not notified`;
      }, { mutes: muteAuditData(fresh) });
    }
    return true;
  }
  if (inc.mutes.length > 0) {
    await deps.store.appendAudit({ at: now, incidentId: inc.id, kind: 'incident.unmuted', actor: 'watcher', data: { ended: inc.mutes.map((m) => m.id) } });
  }
  return false;
}

