import { describe, expect, it } from 'vitest';
import { showText } from '../../src/cli/show-text.js';
import { plainTrace, type PlanTrace } from '../../src/runbook/planner.js';
import { planCostLine } from '../../src/runbook/plan-cost.js';
import { renderIncidentPage, type IncidentView } from '../../src/server/render/incident-page.js';
import { approvalServer } from '../server/approval-server.js';

/** Issue 11 item 4: tokens and dollars per incident on the incident page and in `show`, beside /metrics and the logs. */
const agentPlan: PlanTrace = {
  planner: 'agent',
  modelId: 'anthropic.claude-sonnet',
  promptHashes: ['sha256:aa'],
  tokens: { input: 5_500, output: 375 },
  toolCalls: [],
  fallbackReason: null,
  spend: { input: 5_500, output: 375, cacheRead: 8_340, cacheWrite: 0, guardrailUnits: 12, usd: 0.030431 },
};

describe('what drafting cost', () => {
  it('says tokens by kind and dollars for a model-drafted plan, nothing for the template planner', () => {
    expect(planCostLine(agentPlan)).toBe('agent (anthropic.claude-sonnet): 13,840 input tokens (8,340 from cache) + 375 output, 12 guardrail text units, $0.0304');
    expect(planCostLine(plainTrace('template'))).toBeNull();
    expect(planCostLine(undefined)).toBeNull();
    expect(planCostLine({ ...agentPlan, spend: undefined })).toBe('agent (anthropic.claude-sonnet): 5,500 input tokens + 375 output');
  });

  it('is shown on the incident page and in `cloudops show` when a model drafted', async () => {
    const s = await approvalServer();
    try {
      const inc = { ...(await s.awaiting()), plan: agentPlan };
      const view: IncidentView = { incident: inc, decisions: [], audit: [], now: inc.openedAt, quorum: null, csrf: 'c'.repeat(32), approveCommand: 'x' };
      expect(renderIncidentPage(view)).toContain('<p class="muted" id="plan-cost">Drafting cost: agent (anthropic.claude-sonnet): 13,840 input tokens');
      expect(renderIncidentPage({ ...view, incident: { ...inc, plan: plainTrace('template') } })).not.toContain('id="plan-cost"');
      const text = showText({ incident: inc, decisions: [], quorum: null, executedActions: 0 }).join('\n');
      expect(text).toContain('drafting cost: agent (anthropic.claude-sonnet): 13,840 input tokens (8,340 from cache) + 375 output');
    } finally {
      await s.close();
    }
  });
});
