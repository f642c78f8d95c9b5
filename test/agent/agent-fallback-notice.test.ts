import { afterEach, describe, expect, it } from 'vitest';
import { bedrockError, toolUse, turn, type Script } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { agentSettings, DRAFT, rollbackProposal } from './agent-fixture.js';

afterEach(closeAgentWatchers);

/** Plays the demo with the agent (one retry) answering `script`, until the first proposal. */
async function run(script: Script[]) {
  const { h, stub, untilAwaiting } = await agentWatcher({ settings: agentSettings({ retries: 1 }) });
  stub.script(DRAFT, ...script);
  return { h, inc: await untilAwaiting() };
}

describe('fallback notice (issue 11 item 3)', () => {
  it('when the agent fails and the template planner drafts, the proposal says so and its channels are told why', async () => {
    const { h, inc } = await run([bedrockError(429, 'ThrottlingException'), bedrockError(429, 'ThrottlingException')]);

    expect(inc.runbook?.draftedBy).toBe('template');
    expect(inc.plan?.fallbackReason).toMatch(/^throttled: /);
    expect(inc.reason).toMatch(/drafted by the template planner because the agent failed: throttled: /);
    const sent = h.notifier.sent.filter((a) => a.incidentId === inc.id);
    expect(sent.find((a) => a.kind === 'proposal')?.title).toContain('(template fallback)');
    const notice = sent.find((a) => a.title.includes('the agent failed'));
    expect(notice?.kind).toBe('reminder');
    expect(notice?.title).toMatch(/the agent failed \(throttled: .*\); this is the template planner's proposal/);
    const audit = (await h.store.listAudit({ incidentId: inc.id })).find((a) => a.data['to'] === 'awaiting_approval');
    expect(audit?.data['fallback']).toMatch(/^drafted by the template planner because the agent failed/);
  });

  it('a proposal the agent drafted carries no fallback label and no notice', async () => {
    const { h, inc } = await run([turn([toolUse('propose_runbook', rollbackProposal())])]);
    expect(inc.runbook?.draftedBy).toBe(DRAFT);
    expect(inc.reason).not.toContain('because the agent failed');
    expect(h.notifier.sent.some((a) => a.title.includes('the agent failed'))).toBe(false);
  });
});
