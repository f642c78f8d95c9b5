import type { Incident } from '../incident/incident.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { executeOne } from './execute.js';

/**
 * Incidents whose runbook this process is running right now, per pipeline. A cycle that overran its
 * deadline leaves its work running while the next cycle starts (a slow action, or an approval the
 * leader picked up in a cycle rather than from its own HTTP): that cycle must not mistake the step in
 * flight for one a crash interrupted and hand it to a person, or check and run it again.
 */
const running = new WeakMap<PipelineDeps, Set<string>>();

/** `executeOne`, unless this pipeline is already executing `inc` (then nothing: the runner in flight goes on). */
export async function executeOnce(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<void> {
  let mine = running.get(deps);
  if (!mine) running.set(deps, (mine = new Set()));
  if (mine.has(inc.id)) {
    deps.logger.debug({ incidentId: inc.id, stage: 'execute' }, 'already executing in this process');
    return;
  }
  mine.add(inc.id);
  try {
    await executeOne(deps, ctx, inc);
  } finally {
    mine.delete(inc.id);
  }
}
