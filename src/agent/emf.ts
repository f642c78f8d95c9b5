import type { EpochMs } from '../core/time.js';
import type { AgentTrace } from './agent-planner.js';

/**
 * One agent run as a CloudWatch Embedded Metric Format record: the log line itself becomes metrics
 * (tokens by kind, dollars, tool calls, fallbacks) in namespace CloudopsWatcher/Agent, by planner and
 * fallback reason. Pure; the logger writes it.
 */
export function agentEmf(t: AgentTrace, incidentId: string, service: string, at: EpochMs): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: 'CloudopsWatcher/Agent',
          Dimensions: [['Planner'], ['Planner', 'FallbackReason']],
          Metrics: [
            { Name: 'InputTokens', Unit: 'Count' },
            { Name: 'OutputTokens', Unit: 'Count' },
            { Name: 'CacheReadTokens', Unit: 'Count' },
            { Name: 'CacheWriteTokens', Unit: 'Count' },
            { Name: 'CostUsd', Unit: 'None' },
            { Name: 'ToolCalls', Unit: 'Count' },
            { Name: 'Fallback', Unit: 'Count' },
          ],
        },
      ],
    },
    Planner: t.planner,
    FallbackReason: t.fallbackReason ?? 'none',
    InputTokens: t.usage.input,
    OutputTokens: t.usage.output,
    CacheReadTokens: t.usage.cacheRead,
    CacheWriteTokens: t.usage.cacheWrite,
    CostUsd: Number(t.usd.toFixed(6)),
    ToolCalls: t.toolCalls.length,
    Fallback: t.fallbackReason === null ? 0 : 1,
    incidentId,
    service,
    sessionId: t.sessionId,
    models: t.models,
    promptHashes: t.promptHashes,
  };
}
