import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_MIN_KEY, effectiveCacheMin, learnCacheMin, type CacheMinLedger } from '../../src/agent/cache-min.js';
import { NO_USAGE } from '../../src/agent/usage.js';
import { toolUse, turn, type ConverseCall } from '../helpers/bedrock-stub.js';
import { agentFixture, agentSettings, DRAFT, rollbackProposal, type AgentFixture } from './agent-fixture.js';

const signal = (): AbortSignal => new AbortController().signal;
const usage = (o: Partial<typeof NO_USAGE>) => ({ ...NO_USAGE, input: 100, output: 10, ...o });

describe('the cache minimum, learned from cacheWriteInputTokens (issue 11 item 4)', () => {
  it('pure rules: nothing written or read raises the minimum above that prefix, a write confirms it, a read teaches nothing, 0 stays never', () => {
    // Prepare / Act / Assess, one change per row.
    expect(effectiveCacheMin(1024, undefined)).toBe(1024);
    expect(effectiveCacheMin(0, { below: 5000, confirmed: 6000 })).toBe(0);
    expect(effectiveCacheMin(1024, { below: 3000, confirmed: null })).toBe(3001);
    expect(effectiveCacheMin(4096, { below: 0, confirmed: 2100 })).toBe(2100);
    expect(effectiveCacheMin(1024, { below: 3000, confirmed: 4000 })).toBe(3001);

    expect(learnCacheMin(undefined, 3000, usage({}))).toEqual({ below: 3000, confirmed: null });
    expect(learnCacheMin(undefined, 3000, usage({ cacheWrite: 3000 }))).toEqual({ below: 0, confirmed: 3000 });
    const f = { below: 1000, confirmed: null };
    expect(learnCacheMin(f, 3000, usage({ cacheRead: 2800 }))).toBe(f);
    expect(learnCacheMin(f, null, usage({}))).toBe(f);
    expect(learnCacheMin(f, 900, usage({}))).toBe(f);
    // A write at a prefix we had thought too small: the write is the fact.
    expect(learnCacheMin({ below: 3000, confirmed: null }, 2500, usage({ cacheWrite: 2500 }))).toEqual({ below: 2499, confirmed: 2500 });
  });

  let fx: AgentFixture | null = null;
  afterEach(async () => {
    await fx?.close();
    fx = null;
  });

  const cachePoints = (c: ConverseCall): { tools: number; system: number; messages: number } => ({
    tools: (c.body.toolConfig?.tools ?? []).filter((t: any) => t.cachePoint).length,
    system: (c.body.system ?? []).filter((s: any) => s.cachePoint).length,
    messages: (c.body.messages ?? []).flatMap((m: any) => m.content ?? []).filter((b: any) => b.cachePoint).length,
  });

  it('a call that placed checkpoints and got no cache write stops them being placed at that size, also after a restart', async () => {
    fx = await agentFixture();
    await fx.h.store.setValue(CACHE_MIN_KEY, {});
    const none = { inputTokens: 5000, outputTokens: 50, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {})], 'tool_use', none), turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', none));
    const r = await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(r.agentTrace.planner).toBe('agent');

    const [first, second] = fx.stub.calls as [ConverseCall, ConverseCall];
    // The policy's guess (1024) placed all three on the first call.
    expect(cachePoints(first)).toEqual({ tools: 1, system: 1, messages: 1 });
    const learned = (await fx.h.store.getValue<CacheMinLedger>(CACHE_MIN_KEY))?.[DRAFT];
    expect(learned?.confirmed).toBeNull();
    expect(learned?.below).toBeGreaterThan(1024);
    // The second call: tools and system are below what cached nothing; only the longer conversation may pay.
    expect(cachePoints(second)).toEqual({ tools: 0, system: 0, messages: 1 });
    expect(r.agentTrace.calls[1]?.cachePoints).toEqual({ tools: false, system: false, messages: true });

    // A restarted daemon (a new planner on the same store) knows it before its first call.
    fx.stub.script(DRAFT, turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', none));
    await fx.planner(agentSettings()).draft(fx.incident, signal());
    expect(cachePoints(fx.stub.calls[2] as ConverseCall)).toEqual({ tools: 0, system: 0, messages: 0 });
  });

  it('a cache write confirms the minimum: checkpoints keep being placed where the policy says', async () => {
    fx = await agentFixture();
    await fx.h.store.setValue(CACHE_MIN_KEY, {});
    const wrote = { inputTokens: 200, outputTokens: 50, cacheReadInputTokens: 0, cacheWriteInputTokens: 4800 };
    fx.stub.script(DRAFT, turn([toolUse('get_correlation', {})], 'tool_use', wrote), turn([toolUse('propose_runbook', rollbackProposal())], 'tool_use', { ...wrote, cacheReadInputTokens: 4800, cacheWriteInputTokens: 900 }));
    await fx.planner(agentSettings()).draft(fx.incident, signal());
    const learned = (await fx.h.store.getValue<CacheMinLedger>(CACHE_MIN_KEY))?.[DRAFT];
    expect(learned).toMatchObject({ below: 0 });
    expect(learned?.confirmed).toBeGreaterThan(1024);
    expect(cachePoints(fx.stub.calls[1] as ConverseCall)).toEqual({ tools: 1, system: 1, messages: 1 });
  });
});
