import { errorMessage, isRetryable } from '../core/errors.js';
import type { Incident, StageFailure } from '../incident/incident.js';
import { TERMINAL_STATES } from '../incident/lifecycle.js';
import type { PipelineDeps } from './context.js';
import { saveIncident } from './transitions.js';

/** How many failures an incident keeps (the audit trail keeps them all). */
const KEPT_FAILURES = 5;

/**
 * Records that `stage` failed on one incident: on the incident (`failures`, newest last, and the
 * drafting record when it was a draft), in the audit trail (`stage.failed`) and in /metrics. Never
 * throws: when even the store refuses, the failure is logged and the incident is retried next cycle.
 */
export async function recordFailure(deps: PipelineDeps, inc: Incident, stage: string, err: unknown): Promise<void> {
  const error = errorMessage(err).slice(0, 500);
  const failure: StageFailure = { stage, at: deps.clock.now(), error, retryable: isRetryable(err) };
  deps.pipelineMetrics.stageFailed(stage);
  deps.logger.error({ incidentId: inc.id, stage, err: error, retryable: failure.retryable }, 'stage failed on this incident; the others go on');
  try {
    const current = (await deps.store.getIncident(inc.id)) ?? inc;
    if (TERMINAL_STATES.has(current.state)) {
      await deps.store.appendAudit({ at: failure.at, incidentId: inc.id, kind: 'stage.failed', actor: 'watcher', data: { stage, error, retryable: failure.retryable } });
      return;
    }
    await saveIncident(deps.store, current, failure.at, 'watcher', 'stage.failed', (n) => {
      n.failures = [...(n.failures ?? []), failure].slice(-KEPT_FAILURES);
      if (stage === 'draft' && n.drafting) n.drafting.lastError = error;
    }, { stage, error, retryable: failure.retryable });
  } catch (again) {
    deps.logger.error({ incidentId: inc.id, stage, err: errorMessage(again) }, 'the failure could not be recorded');
  }
}
