import type { AgentTool } from './tool.js';
import { correlationTool } from './correlation.js';
import { deploymentsTool } from './deployments.js';
import { logsQueryTool } from './logs-query.js';
import { metricSeriesTool } from './metric-series.js';
import { pastIncidentsTool } from './past-incidents.js';
import { runbookFetchTool } from './runbook-fetch.js';

/** Every investigation tool. All read; none writes, approves or executes. */
export const INVESTIGATION_TOOLS: readonly AgentTool[] = [metricSeriesTool, logsQueryTool, deploymentsTool, correlationTool, pastIncidentsTool, runbookFetchTool] as readonly AgentTool[];
