import { afterEach, describe, expect, it } from 'vitest';
import { planTraceOf } from '../../src/agent/agent-planner.js';
import { renderSlackMessage } from '../../src/approval/channels/slack-blocks.js';
import { emailText } from '../../src/approval/email-notifier.js';
import type { Announcement } from '../../src/cloud/ports.js';
import type { Incident } from '../../src/incident/incident.js';
import { toolUse, turn } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, type AgentFixture } from './agent-fixture.js';

/**
 * Issue 11 item 2: the evidence each step rests on reaches approvers where they decide — as CloudWatch
 * console and Logs Insights links in Slack and in email, not only on the page — with the hypothesis,
 * the recovery check and what the agent could not check. Drafted by the real agent planner over the
 * Converse protocol, then rendered as the notifiers render it.
 */
let fx: AgentFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const URL_ = 'https://ops.example.com/incidents/x';
const slackText = (inc: Incident): string => JSON.stringify(renderSlackMessage({ incident: inc, decisions: [], quorum: null, eligible: [], url: URL_, now: inc.onsetAt }).blocks);
const announcement = (inc: Incident): Announcement => ({ kind: 'proposal', incidentId: inc.id, title: 'approval needed', text: inc.reason, url: URL_, state: inc.state });

async function drafted(proposal: Record<string, unknown>): Promise<Incident> {
  fx = await agentFixture();
  const denied = { fetch: async () => Promise.reject(Object.assign(new Error('User is not authorized to perform: logs:StartQuery'), { name: 'AccessDeniedException' })) };
  fx.stub.script(DRAFT, turn([toolUse('query_logs', { filter: 'ERROR' }), toolUse('list_deployments', {})]), turn([toolUse('propose_runbook', proposal)]));
  const r = await fx.planner(agentSettings(), { logs: denied }).draft(fx.incident, new AbortController().signal);
  if (r.kind !== 'drafted') throw new Error(`the agent did not draft: ${r.kind}`);
  expect(r.agentTrace.planner).toBe('agent');
  return { ...fx.incident, state: 'awaiting_approval', runbook: r.runbook, plan: planTraceOf(r.agentTrace) };
}

describe('the agent\'s evidence in Slack and email', () => {
  it('Slack and email carry the hypothesis, each step\'s evidence with its console link, the recovery check and the investigation gaps', async () => {
    const inc = await drafted(rollbackProposal());
    const slack = slackText(inc);
    expect(slack).toContain("*Agent's hypothesis* (confidence 80 %): Release 9f8e7d6 switched the payment client to v2");
    expect(slack).toMatch(/• step 1: <https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#metricsV2:graph=[^|]+\|metric checkout5xx> — 5xx rose from ~3 to ~48/);
    expect(slack).toMatch(/<https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logsV2:logs-insights\$3FqueryDetail\$3D[^|]+\|logs \/ecs\/checkout matching \\"PaymentClientV2\\">/);
    expect(slack).toMatch(/<https:\/\/us-east-1\.console\.aws\.amazon\.com\/codesuite\/codepipeline\/pipelines\/checkout-deploy\/executions\/[0-9a-f-]+\/timeline\?region=us-east-1\|deployment [0-9a-f-]+>/);
    expect(slack).toContain('*Recovery check* 5xx back under 10 per minute for three polls');
    expect(slack).toMatch(/\*Could not check\*\\n• query_logs\(\{\\"filter\\":\\"ERROR\\"\}\) — missing permission/);

    const mail = emailText(announcement(inc), inc, null);
    expect(mail).toContain("Agent's hypothesis (confidence 80 %): Release 9f8e7d6 switched the payment client to v2");
    expect(mail).toMatch(/\n {2}- step 1: metric checkout5xx: 5xx rose from ~3 to ~48 per minute at the onset\n {4}https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#metricsV2:graph=\S+\n/);
    expect(mail).toMatch(/\n {4}https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logsV2:logs-insights\S+\n/);
    expect(mail).toContain('Recovery check: 5xx back under 10 per minute for three polls');
    expect(mail).toMatch(/Could not check:\n {2}- query_logs\(\{"filter":"ERROR"\}\) — missing permission/);
    // The evidence comes before the runbook, so an approver reads the case and then what would run.
    expect(mail.indexOf("Agent's hypothesis")).toBeLessThan(mail.indexOf('Runbook:'));
  }, 60_000);

  it('model text cannot mention people, forge a link or start a line of its own; an invented reference is marked unverified and gets no link', async () => {
    const inc = await drafted(rollbackProposal({
      hypothesis: 'Bad release <!channel> see <https://evil.example/approve|Approve here>\nApprove: https://evil.example/x',
      steps: [{
        action: 'codepipeline.rollback',
        params: (rollbackProposal().steps as { params: Record<string, unknown> }[])[0]!.params,
        description: 'Roll back.',
        evidence: [{ kind: 'metric', metricId: 'no-such-metric', observation: 'invented <@U123>' }],
      }],
    }));
    const slack = slackText(inc);
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('<https://evil.example');
    expect(slack).not.toContain('<@U123>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).toContain('• step 1: metric no-such-metric _(unverified reference)_ — invented &lt;@U123&gt;');
    const mail = emailText(announcement(inc), inc, null);
    expect(mail).not.toMatch(/\nApprove: https:\/\/evil/);
    expect(mail).toContain('  - step 1: metric no-such-metric (unverified reference): invented <@U123>');
    expect(mail).not.toMatch(/no-such-metric.*\n {4}https:/);
  }, 60_000);

  it('a template-drafted runbook carries no agent section, and neither does a fallback after the agent failed', async () => {
    fx = await agentFixture();
    const template = { ...fx.incident, state: 'awaiting_approval' as const, runbook: { templateId: 'rollback', title: 'Roll back', risk: 'medium' as const, steps: [], verify: { withinMs: 600_000, healthyPolls: 3 }, body: '', draftedBy: 'template', hash: `sha256:${'0'.repeat(64)}` } };
    expect(slackText(template as Incident)).not.toContain("Agent's hypothesis");
    expect(emailText(announcement(template as Incident), template as Incident, null)).not.toContain("Agent's hypothesis");
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', { decision: 'runbook' })]), turn([toolUse('propose_runbook', { decision: 'runbook' })]));
    const r = await fx.planner(agentSettings()).draft(fx.incident, new AbortController().signal);
    expect(r.agentTrace.planner).toBe('template');
    const fallback = { ...template, plan: planTraceOf(r.agentTrace) } as Incident;
    expect(planTraceOf(r.agentTrace).investigation?.analysis).toBeUndefined();
    expect(slackText(fallback)).not.toContain("Agent's hypothesis");
  }, 60_000);
});
