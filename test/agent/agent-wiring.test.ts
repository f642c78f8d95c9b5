import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { agentPolicySchema } from '../../src/agent/agent-policy.js';
import { buildWorld } from '../../src/compose.js';
import { ManualClock } from '../../src/core/clock.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

/** The composition root picks the planner from the policy: the agent when `agent` is enabled, else templates. */
function world(edit: (doc: PolicyDoc) => void): { kind: string; fallback: string; release: () => void } {
  const doc = loadPolicyFile('config/demo.yaml').policy;
  edit(doc);
  const policy = compilePolicy(doc, 'config/demo.yaml');
  const w = buildWorld(policy, { store: new SqliteStore(':memory:'), logger: pino({ level: 'silent' }), notifiers: () => [], publicUrl: '', dataDir: mkdtempSync(join(tmpdir(), 'agent-wiring-')), clock: new ManualClock(Date.parse('2026-11-02T08:00:00Z')) });
  return { kind: w.deps.planner.kind, fallback: w.deps.fallbackPlanner.kind, release: () => w.release() };
}

const agentSection = (enabled: boolean): PolicyDoc['agent'] =>
  agentPolicySchema.parse({
    enabled,
    endpoint: 'http://127.0.0.1:9',
    draftModel: 'us.anthropic.claude-sonnet-4-6',
    models: { 'us.anthropic.claude-sonnet-4-6': { inputPerMTok: 3, outputPerMTok: 15 } },
  });

describe('the agent in the composition root', () => {
  it('drafts with the agent when the policy enables it, the templates as its fallback', () => {
    const w = world((d) => void (d.agent = agentSection(true)));
    expect(w).toMatchObject({ kind: 'agent', fallback: 'template' });
    w.release();
  });

  it('drafts with the templates when the policy has no agent, or disables it', () => {
    expect(world(() => undefined)).toMatchObject({ kind: 'template', fallback: 'template' });
    expect(world((d) => void (d.agent = agentSection(false)))).toMatchObject({ kind: 'template' });
  });
});
