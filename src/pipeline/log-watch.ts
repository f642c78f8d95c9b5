import { errorMessage } from '../core/errors.js';
import { MINUTE, type EpochMs } from '../core/time.js';
import type { MetricEvent } from '../incident/grouping.js';
import { emptyLogSignalState, LEARN_AFTER_MS, logSignals, type LogSignalState } from '../incident/log-signal.js';
import type { CycleContext, PipelineDeps } from './context.js';

const key = (service: string): string => `logsignal:${service}`;
/** Lines read per service and cycle at most (the port caps further). */
const LIMIT = 10_000;

/**
 * Log signals of this cycle (see log-signal.ts): reads each service's log groups over the whole minutes
 * since the last read — the first read learns the last LEARN_AFTER_MS as the normal log — and returns
 * the events of new error templates, for grouping beside the metric events. A failed read costs only
 * this cycle's log signals (the next cycle reads the same minutes again).
 */
export async function watchLogs(deps: PipelineDeps, ctx: CycleContext): Promise<MetricEvent[]> {
  const services = Object.entries(deps.policy.doc.services).filter(([, s]) => s.logGroups.length > 0);
  if (services.length === 0) return [];
  const states = await deps.store.getValues<LogSignalState>(services.map(([svc]) => key(svc)));
  const to = Math.floor(ctx.now / MINUTE) * MINUTE;
  const events: MetricEvent[] = [];
  const save: Record<string, LogSignalState> = {};
  for (const [service, s] of services) {
    const state = states.get(key(service)) ?? emptyLogSignalState();
    const learnOnly = state.lastT === null;
    // After a long outage, at most the learning span is read: older lines are no longer news.
    const from = Math.max(state.lastT ?? to - LEARN_AFTER_MS, to - LEARN_AFTER_MS);
    if (from >= to) continue;
    try {
      const records = await deps.logs.fetch({ groups: s.logGroups, range: { start: from as EpochMs, end: to as EpochMs }, limit: LIMIT }, ctx.signal);
      events.push(...logSignals(service, state, records, from, to, learnOnly));
      save[key(service)] = state;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      deps.logger.warn({ stage: 'log-watch', service, err: errorMessage(err) }, 'logs unavailable; no log signals this cycle');
    }
  }
  if (Object.keys(save).length > 0) await deps.store.setValues(save);
  return events;
}
