import { insightsQuery, logsInsightsLink, metricConsoleLink, pipelineExecutionLink } from '../agent/links.js';
import type { Incident } from '../incident/incident.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { EpochMs } from '../core/time.js';
import type { ConsoleLinks } from './render/incident-page.js';

const AROUND_MS = 30 * 60_000;

/**
 * AWS console links for an incident on a real account: the suspect pipeline execution, the main metric
 * and the service's log groups in Logs Insights, each over the half hour either side of the onset.
 * None on the simulated cloud (there is no console to open). Pure.
 */
export function consoleLinksFor(policy: CompiledPolicy, inc: Incident): ConsoleLinks {
  if (policy.doc.cloud.kind !== 'aws') return {};
  const region = policy.doc.account.region;
  const range = { start: (inc.onsetAt - AROUND_MS) as EpochMs, end: (inc.onsetAt + AROUND_MS) as EpochMs };
  const suspect = inc.correlation?.suspect?.deployment;
  const metricId = inc.chart?.metricId ?? inc.signals[0]?.metricId;
  const metric = policy.metrics.find((m) => m.id === metricId);
  const groups = policy.doc.services[inc.service]?.logGroups ?? [];
  return {
    ...(suspect ? { pipelineExecution: pipelineExecutionLink(region, suspect.pipeline, suspect.id) } : {}),
    ...(metric ? { metric: metricConsoleLink(region, metric, range) } : {}),
    ...(groups.length > 0 ? { logs: logsInsightsLink(region, groups, insightsQuery(undefined, 100), range) } : {}),
  };
}
