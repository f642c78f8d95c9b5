import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionCall, ActionTarget } from '../../src/cloud/ports.js';
import type { SimCloud } from '../../src/cloud/sim/sim-cloud.js';
import { sizedSims } from './sized-sim.js';
import { blastText, previewLine, previewSteps, priceCost, type PreviewPrices, type StepPreview } from '../../src/execute/step-preview.js';
import type { Incident } from '../../src/incident/incident.js';
import { renderSlackMessage } from '../../src/approval/channels/slack-blocks.js';
import { emailText } from '../../src/approval/email-notifier.js';
import { showText } from '../../src/cli/show-text.js';
import { renderIncidentPage, type IncidentView } from '../../src/server/render/incident-page.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';

const PRICES: PreviewPrices = { fargateVcpuHour: 0.04048, fargateGbHour: 0.004445, lambdaProvisionedGbHour: 0.015 };
const OPTS = { prices: PRICES, timeoutMs: 2_000 };

const sizedSim = (): SimCloud => sizedSims().open();

const view = (inc: Incident): IncidentView => ({ incident: inc, decisions: [], audit: [], now: inc.updatedAt, quorum: { approvedBy: [], needed: 1 }, csrf: 'c'.repeat(32), approveCommand: null });

describe('step previews at proposal time (issue 12 item 3)', () => {
  let h: Harness;
  let awaiting: Incident;
  beforeAll(async () => {
    h = simHarness();
    const incs = await h.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'));
    const found = incs.find((i) => i.state === 'awaiting_approval');
    if (!found) throw new Error('no request');
    awaiting = found;
  });
  afterAll(() => h.store.close?.());

  it('the sim world previews every step when the runbook is proposed; the page, Slack, email and cloudops show carry them, and the runbook hash is unchanged', () => {
    if (!awaiting.runbook || !awaiting.approval) throw new Error('no request');
    const previews = awaiting.approval.previews ?? [];

    expect(previews).toHaveLength(awaiting.runbook.steps.length);
    expect(previews.every((p) => p.available)).toBe(true);
    expect(awaiting.approval.runbookHash).toBe(awaiting.runbook.hash);
    const first = previews[0]!;
    // The demo's suspect is a checkout release: the sim says which deployment the rollback undoes.
    expect(first.summary).toContain('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(first.cost).toBe('no cost change (a rollback)');

    const html = renderIncidentPage(view(awaiting));
    expect(html).toContain('id="previews"');
    expect(html).toContain(first.summary.replace(/"/g, '&quot;'));
    expect(html).toContain('Cost: no cost change (a rollback)');
    expect(html).toContain(`Blast radius: ${first.blastRadius}`);

    const slack = JSON.stringify(renderSlackMessage({ incident: awaiting, decisions: [], quorum: { approvedBy: [], needed: 1 }, eligible: ['alice'], url: 'http://x/i', now: awaiting.updatedAt }).blocks);
    expect(slack).toContain('*Preview*');
    expect(slack).toContain('5a6b7c8d-cccc-4d2e-9f3a-4b5c6d7e0003');
    expect(slack).toContain('no cost change (a rollback)');

    const mail = emailText({ kind: 'proposal', incidentId: awaiting.id, title: 't', text: 'x', url: 'http://x/i', state: awaiting.state }, awaiting, null);
    expect(mail).toContain('Preview (read from the cloud when proposed):');
    expect(mail).toContain('cost: no cost change (a rollback)');

    const shown = showText({ incident: awaiting, decisions: [], quorum: null, executedActions: 0 }).join('\n');
    expect(shown).toContain('preview 1: ');
    expect(shown).toContain('blast radius: ');
  });

  it('an ECS desiredCount 2→6 step shows +4 tasks and the $/hour delta at the policy prices', async () => {
    const [p] = await previewSteps(sizedSim(), [{ action: 'ecs.updateService', params: { service: 'api', desiredCount: 6 } }], OPTS, AbortSignal.timeout(5_000));

    expect(p?.changes).toContain('desiredCount: 2 → 6');
    expect(p?.blastRadius).toContain('4 tasks');
    // 4 more tasks of 0.25 vCPU and 0.5 GB.
    const perTask = 0.25 * PRICES.fargateVcpuHour + 0.5 * PRICES.fargateGbHour;
    expect(p?.costPerHour).toBeCloseTo(4 * perTask, 10);
    expect(p?.cost).toBe(`+$${(4 * perTask).toFixed(4)}/hour (Fargate, 2 → 6 tasks of 0.25 vCPU / 0.5 GB)`);
  });

  it('a scale-in is a negative cost, and doubled prices double it (the prices are the policy\'s, not constants)', async () => {
    const step: ActionCall = { action: 'ecs.updateService', params: { service: 'api', desiredCount: 1 } };
    const [cheap] = await previewSteps(sizedSim(), [step], OPTS, AbortSignal.timeout(5_000));
    const [dear] = await previewSteps(sizedSim(), [step], { ...OPTS, prices: { ...PRICES, fargateVcpuHour: PRICES.fargateVcpuHour * 2, fargateGbHour: PRICES.fargateGbHour * 2 } }, AbortSignal.timeout(5_000));

    expect(cheap?.costPerHour).toBeLessThan(0);
    expect(cheap?.cost).toMatch(/^-\$0\.\d{4}\/hour/);
    expect(dear?.costPerHour).toBeCloseTo(2 * (cheap?.costPerHour ?? 0), 10);
  });

  it('a service whose size the cloud does not state says the cost is unknown rather than guessing', async () => {
    const [p] = await previewSteps(sizedSim(), [{ action: 'ecs.updateService', params: { service: 'bare', desiredCount: 6 } }], OPTS, AbortSignal.timeout(5_000));
    expect(p?.available).toBe(true);
    expect(p?.costPerHour).toBeNull();
    expect(p?.cost).toMatch(/^cost change unknown/);
  });

  it('a preview that throws renders as "preview unavailable: <reason>", keeps the step, and never throws out of previewSteps', async () => {
    const failing: ActionTarget = {
      execute: () => Promise.reject(new Error('never called')),
      check: () => Promise.resolve('unknown'),
      preview: () => Promise.reject(new Error('AccessDeniedException: not authorized to perform ecs:DescribeServices')),
    };
    const steps: ActionCall[] = [{ action: 'ecs.updateService', params: { service: 'api', desiredCount: 6 } }];
    const previews = await previewSteps(failing, steps, OPTS, AbortSignal.timeout(5_000));

    expect(previews[0]?.available).toBe(false);
    expect(previewLine(previews[0]!)).toMatch(/^preview unavailable: AccessDeniedException: not authorized/);
    const inc = withPreviews(awaiting, previews, steps);
    const html = renderIncidentPage(view(inc));
    expect(html).toContain('preview unavailable: AccessDeniedException: not authorized to perform ecs:DescribeServices');
    expect(html).toContain('<code class="action-name">ecs.updateService</code>');
    const slack = JSON.stringify(renderSlackMessage({ incident: inc, decisions: [], quorum: { approvedBy: [], needed: 1 }, eligible: ['alice'], url: 'http://x/i', now: inc.updatedAt }).blocks);
    expect(slack).toContain('preview unavailable: AccessDeniedException');
  });

  it('a preview that never answers is cut at its deadline and marked unavailable', async () => {
    const hanging: ActionTarget = { execute: () => Promise.reject(new Error('no')), check: () => Promise.resolve('unknown'), preview: () => new Promise(() => undefined) };
    const started = Date.now();
    const [p] = await previewSteps(hanging, [{ action: 'ecs.updateService', params: { service: 'api', desiredCount: 6 } }], { ...OPTS, timeoutMs: 50 }, AbortSignal.timeout(5_000));

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(p?.available).toBe(false);
    expect(p?.unavailable).toBe('no answer within 50 ms');
  });

  it('a step whose parameters do not parse is unavailable with the schema\'s reason, the others still previewed', async () => {
    const previews = await previewSteps(sizedSim(), [{ action: 'ecs.updateService', params: { service: 'api' } }, { action: 'ecs.updateService', params: { service: 'api', desiredCount: 3 } }], OPTS, AbortSignal.timeout(5_000));
    expect(previews[0]?.available).toBe(false);
    expect(previews[0]?.unavailable).toContain('give desiredCount');
    expect(previews[1]?.available).toBe(true);
  });

  it('prices and blast radius in words (pure)', () => {
    expect(priceCost({ kind: 'none', why: 'a rollback' }, PRICES)).toEqual({ text: 'no cost change (a rollback)', perHour: 0 });
    expect(priceCost(undefined, PRICES).perHour).toBeNull();
    expect(priceCost({ kind: 'lambdaConcurrency', concurrencyDelta: 10, memoryGb: 0.5 }, PRICES).perHour).toBeCloseTo(10 * 0.5 * 0.015, 10);
    const resize = priceCost({ kind: 'fargate', before: { tasks: 3, vcpu: 1, memoryGb: 2 }, after: { tasks: 3, vcpu: 0.5, memoryGb: 1 } }, PRICES);
    expect(resize.perHour).toBeCloseTo(-3 * (0.5 * PRICES.fargateVcpuHour + 1 * PRICES.fargateGbHour), 10);
    expect(blastText(['lambda:fn:live'], { functions: 1, trafficShare: 0.25 })).toBe('1 resource (lambda:fn:live) · 1 function · 25% of its traffic');
    expect(blastText([], undefined)).toBe('no cloud resource');
  });
});

/** The sim's awaiting incident with these steps and previews instead of its own. */
function withPreviews(base: Incident, previews: readonly StepPreview[], steps: readonly ActionCall[]): Incident {
  if (!base.runbook || !base.approval) throw new Error('no request');
  return { ...base, runbook: { ...base.runbook, steps: steps.map((s) => ({ ...s, risk: 'low' as const, description: 'scale' })) }, approval: { ...base.approval, previews } };
}
