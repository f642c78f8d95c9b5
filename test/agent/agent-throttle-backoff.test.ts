import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/agent/call.js';
import { parseDuration } from '../../src/core/time.js';
import { bedrockError } from '../helpers/bedrock-stub.js';
import { agentWatcher, closeAgentWatchers } from '../helpers/agent-watcher.js';
import { agentSettings, DRAFT } from './agent-fixture.js';

afterEach(closeAgentWatchers);

const throttled = () => bedrockError(429, 'ThrottlingException', 'Too many requests, please wait before trying again.');

/** Gaps, in wall ms, between the Converse requests the stub received. */
const gaps = (at: readonly number[]): number[] => at.slice(1).map((t, i) => t - (at[i] ?? t));

describe('throttling backoff really waits (issue 11 item 3)', () => {
  // Two shapes of the policy's backoff: no jitter drawn (factor 1) and the lowest jitter (factor 0.5).
  it.each([
    { retries: 3, retryBase: '120ms', jitter: 1 },
    { retries: 2, retryBase: '260ms', jitter: 0 },
  ])('$retries retries from $retryBase (jitter draw $jitter): the stub sees each retry after its backoff, then the template planner drafts, labelled, and the channels are told', async ({ retries, retryBase, jitter }) => {
    // Prepare: the agent on the pipeline with the planner's own wall-clock sleep; every answer is a 429.
    const { h, stub, untilAwaiting } = await agentWatcher({ settings: agentSettings({ retries, retryBase }), sleep: 'wall', random: () => jitter });
    stub.script(DRAFT, ...Array.from({ length: retries + 2 }, throttled));

    // Act.
    const inc = await untilAwaiting();

    // Assess: the first try and `retries` retries, no more; each retry after the configured backoff.
    expect(stub.calls).toHaveLength(retries + 1);
    expect(stub.remaining(DRAFT)).toBe(1);
    const expected = Array.from({ length: retries }, (_, n) => backoffMs(n, parseDuration(retryBase), () => jitter));
    expect(expected[0]).toBe(parseDuration(retryBase) * (0.5 + jitter / 2));
    const seen = gaps(stub.calls.map((c) => c.receivedAt));
    seen.forEach((gap, n) => {
      // Timers never fire early (the bound doubles per retry); a loaded machine may add latency, not 400 ms of it per retry.
      expect(gap, `gap before retry ${n + 1}`).toBeGreaterThanOrEqual((expected[n] ?? 0) - 1);
      expect(gap, `gap before retry ${n + 1}`).toBeLessThan((expected[n] ?? 0) + 400);
    });

    // After the cap: the template planner's proposal, labelled, and a notice on the proposal's channels.
    expect(inc.runbook?.draftedBy).toBe('template');
    expect(inc.plan?.planner).toBe('template');
    expect(inc.plan?.fallbackReason).toMatch(new RegExp(`^throttled: ThrottlingException \\(429\\).*\\(after ${retries + 1} attempts\\)$`));
    expect(inc.runbook?.body).toMatch(/^> The agent could not draft this runbook \(throttled: .*\); this is the template planner's proposal\./);
    const sent = h.notifier.sent.filter((a) => a.incidentId === inc.id);
    expect(sent.find((a) => a.kind === 'proposal')?.title).toContain('(template fallback)');
    expect(sent.find((a) => a.kind === 'reminder' && a.title.includes('the agent failed (throttled'))?.text).toMatch(/^drafted by the template planner because the agent failed: throttled: /);
    expect(inc.approval?.channels).toContain(h.notifier.channel);
    expect(h.sim.executeCalls()).toBe(0);
  });

  it('a backoff longer than the run deadline is cut by the deadline: the run falls back at once (deadline), the next retry never sent', async () => {
    const { stub, untilAwaiting } = await agentWatcher({ settings: agentSettings({ retries: 3, retryBase: '20s', deadline: '400ms' }), sleep: 'wall', random: () => 1 });
    stub.script(DRAFT, throttled(), throttled());
    const started = performance.now();
    const inc = await untilAwaiting();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(stub.calls).toHaveLength(1);
    expect(inc.plan?.fallbackReason).toMatch(/^deadline: the run was cut off while backing off from a throttled call/);
    expect(inc.runbook?.draftedBy).toBe('template');
  });
});
