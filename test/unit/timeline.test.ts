import { beforeAll, describe, expect, it } from 'vitest';
import { showText } from '../../src/cli/show-text.js';
import type { Decision, Incident } from '../../src/incident/incident.js';
import { evaluateQuorum } from '../../src/approval/quorum.js';
import { approvalRules } from '../../src/policy/compile.js';
import { decisionRecord } from '../../src/server/render/decision-record.js';
import { buildTimeline, timelineMarkdown, timelineText } from '../../src/server/render/timeline.js';
import type { AuditRecord } from '../../src/store/store.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';

/** Issue 15 item 10 / brief item 2: one incident's story, from detection to its final state. */
let h: Harness;
let done: Incident;
let decisions: Decision[];
let audit: AuditRecord[];
beforeAll(async () => {
  h = simHarness();
  const [inc] = (await h.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).filter((i) => i.state === 'awaiting_approval');
  if (!inc?.runbook) throw new Error('no proposal');
  await h.watcher.decide({ incidentId: inc.id, approver: 'alice', verdict: 'approve', runbookHash: inc.runbook.hash, channel: 'web', identity: 'oidc:alice@example.com' });
  await h.watcher.drain();
  const incs = await h.runUntil((all) => all.some((i) => i.id === inc.id && i.state === 'resolved'), 80);
  done = incs.find((i) => i.id === inc.id) as Incident;
  decisions = await h.store.listDecisions(inc.id);
  audit = await h.store.listAudit({ incidentId: inc.id });
}, 120_000);

describe('the incident timeline (pure)', () => {
  it('tells the story in order: detected, drafted, proposed, the decision with channel and identity, each step with its result, verification, resolved', () => {
    const entries = buildTimeline({ incident: done, decisions, audit });
    const kinds = entries.map((e) => e.kind);
    const first = (k: string): number => kinds.indexOf(k as (typeof kinds)[number]);
    for (const k of ['detected', 'drafted', 'proposed', 'decision', 'step', 'verification', 'state']) expect(first(k), k).toBeGreaterThanOrEqual(0);
    expect(first('detected')).toBeLessThan(first('proposed'));
    expect(first('proposed')).toBeLessThan(first('decision'));
    expect(first('decision')).toBeLessThan(first('step'));
    expect(first('step')).toBeLessThan(first('verification'));
    for (let n = 1; n < entries.length; n++) expect(entries[n]?.at).toBeGreaterThanOrEqual(entries[n - 1]?.at ?? 0);
    expect(entries.find((e) => e.kind === 'decision')?.text).toBe('alice approved via web as oidc:alice@example.com — counts');
    expect(entries.filter((e) => e.kind === 'step').map((e) => e.text)).toEqual([expect.stringMatching(/^step 1 codepipeline\.rollback started$/), expect.stringMatching(/^step 1 codepipeline\.rollback succeeded after \d+ s/)]);
    expect(entries.at(-1)?.text).toMatch(/^resolved — executed and verified/);
    expect(timelineText(entries)[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}detected/);
  });

  it('says why a decision does not count', () => {
    const rules = approvalRules(h.policy, done.runbook?.risk ?? 'low', false);
    const extra: Decision = { ...(decisions[0] as Decision), approver: 'dave', identity: 'slack:U0DAVE', channel: 'slack', at: ((decisions[0]?.at ?? 0) + 1000) as Decision['at'] };
    const q = evaluateQuorum(done.approval ?? (null as never), [...decisions, extra], rules);
    const ignored = q.ignored.map((x) => ({ approver: x.decision.approver, at: x.decision.at, why: x.why }));
    const text = buildTimeline({ incident: done, decisions: [...decisions, extra], audit, ignored }).find((e) => e.text.startsWith('dave'))?.text;
    expect(text).toMatch(/^dave approved via slack as slack:U0DAVE — not counted: /);
  });

  it('without the audit (cut or old) still ends with the final state', () => {
    expect(buildTimeline({ incident: done, decisions, audit: [] }).at(-1)).toMatchObject({ kind: 'state', text: expect.stringMatching(/^resolved/) });
  });

  it('exports a postmortem in Markdown whose table untrusted text cannot break', () => {
    const hostile: Incident = { ...structuredClone(done), reason: 'a | b\nc' };
    const md = timelineMarkdown({ incident: hostile, decisions, audit });
    expect(md.startsWith(`# Incident ${done.id}: checkout\n`)).toBe(true);
    expect(md).toContain('- **Why:** a \\| b c');
    expect(md).toContain('## Timeline (UTC)');
    expect(md).toMatch(/\| \d{4}-\d\d-\d\d [\d:]+Z \| decision \| alice approved via web/);
    for (const row of md.split('\n').filter((l) => l.startsWith('| 2'))) expect(row.split(/(?<!\\)\|/).length).toBe(5);
  });

  it("the auditor's record names planner, runbook hash, approver and channel, step timing, and ends with the chain check", async () => {
    const lines = decisionRecord({ incident: done, decisions, audit, verification: await h.store.verifyAudit() });
    const text = lines.join('\n');
    expect(text).toMatch(/planner template/);
    expect(text).toContain(`alice approve ${done.runbook?.hash} via web as oidc:alice@example.com`);
    expect(text).toMatch(/1\. codepipeline\.rollback succeeded .* → .* \(\d+ s\) key /);
    expect(text).toMatch(/^ {4}- pipeline checkout-deploy deploys checkout$/m);
    expect(lines.filter((l) => /^ {2}#\d+ /.test(l))).toHaveLength(audit.length);
    expect(lines.at(-1)).toMatch(/^audit: verified \(\d+ records in the chain\)$/);
    const broken = decisionRecord({ incident: done, decisions, audit, verification: { ok: false, records: 9, firstBadSeq: 4, problem: 'hash mismatch' } });
    expect(broken.at(-1)).toBe('audit: BROKEN at record 4: hash mismatch');
  });

  it('cloudops show text: decisions counted, what ran, top log templates, other suspects, timeline', () => {
    const rules = approvalRules(h.policy, done.runbook?.risk ?? 'low', false);
    const q = evaluateQuorum(done.approval ?? (null as never), decisions, rules);
    const lines = showText({ incident: done, decisions, quorum: { approvedBy: q.approvedBy, needed: q.needed, met: q.met, ignored: [] }, executedActions: 1, clock: { now: h.clock.now(), virtual: true } }, audit);
    const text = lines.join('\n');
    expect(text).toMatch(/suspect: checkout-deploy revision \S+ ".+" \(execution 5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003\)/);
    expect(text).toMatch(/top log templates:\n {4}new/);
    expect(text).toMatch(/alice approve via web \(oidc:alice@example.com\) — counts/);
    expect(text).toMatch(/what ran:\n {4}1\. codepipeline\.rollback succeeded in \d+ s/);
    expect(text).toMatch(/timeline:\n {4}\d{4}-/);
  });
});
