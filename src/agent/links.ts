import type { MetricQuery, TimeRange } from '../cloud/ports.js';
import { iso } from '../core/time.js';

/**
 * CloudWatch console links for evidence, so approvers can open what the agent looked at. Pure: the
 * same facts always give the same link. The console's fragment uses a tilde notation in which values
 * are URI-encoded with `*` in place of `%`.
 */

/** One value in the console's tilde notation. */
export function consoleValue(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  const enc = encodeURIComponent(v).replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
  return "'" + enc.replace(/%([0-9A-F]{2})/gi, (_m, h: string) => '*' + h.toLowerCase());
}

const consoleBase = (region: string): string => `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${encodeURIComponent(region)}`;

/** A metrics graph of one policy metric over `range`. */
export function metricConsoleLink(region: string, m: MetricQuery, range: TimeRange): string {
  const metric = m.expression
    ? `(~(~(expression~${consoleValue(m.expression)}~label~${consoleValue(m.id)})))`
    : `(~(${[m.namespace, m.metricName, ...Object.entries(m.dimensions).flat()].map((v) => '~' + consoleValue(v)).join('')}))`;
  const graph = `~(metrics~${metric}~view~'timeSeries~stat~${consoleValue(m.stat)}~period~${m.periodSec}~region~${consoleValue(region)}~start~${consoleValue(iso(range.start))}~end~${consoleValue(iso(range.end))})`;
  return `${consoleBase(region)}#metricsV2:graph=${graph}`;
}

/** The Logs Insights query string equivalent to a LogSource query with a substring or /regex/ filter. */
export function insightsQuery(filter: string | undefined, limit: number): string {
  const lines = ['fields @timestamp, @message, @logStream'];
  if (filter) {
    const re = /^\/(.*)\/$/.exec(filter);
    const pattern = re ? (re[1] ?? '') : filter.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    lines.push(`| filter @message like /(?i)${pattern}/`);
  }
  lines.push('| sort @timestamp desc', `| limit ${limit}`);
  return lines.join('\n');
}

/** A Logs Insights page with the query, the groups and the absolute range filled in. */
export function logsInsightsLink(region: string, groups: readonly string[], query: string, range: TimeRange): string {
  const detail = `~(end~${consoleValue(iso(range.end))}~start~${consoleValue(iso(range.start))}~timeType~'ABSOLUTE~tz~'UTC~editorString~${consoleValue(query)}~source~(${groups.map((g) => '~' + consoleValue(g)).join('')}))`;
  return `${consoleBase(region)}#logsV2:logs-insights$3FqueryDetail$3D${detail}`;
}

/** The console page of one CodePipeline execution. */
export function pipelineExecutionLink(region: string, pipeline: string, executionId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(pipeline)}/executions/${encodeURIComponent(executionId)}/timeline?region=${encodeURIComponent(region)}`;
}
