import { describeCall, parseCall } from '../actions/catalogue.js';
import type { ActionCall, ActionTarget, BlastRadius, CostBasis, Preview, TaskFleet } from '../cloud/ports.js';
import { errorMessage } from '../core/errors.js';

/**
 * What approvers see of each step before they decide (issue 12 item 3): the step's read-only preview,
 * its blast radius and its cost change in $/hour. Made once when the runbook is proposed and stored on
 * the approval request, beside the runbook (its hash does not change). A preview that cannot be made
 * says why and never blocks the request or hides the step.
 */

/** The policy's prices (`execution.prices`), $ per hour of one unit. */
export interface PreviewPrices {
  readonly fargateVcpuHour: number;
  readonly fargateGbHour: number;
  readonly lambdaProvisionedGbHour: number;
}

/** One step's preview as the request stores it: plain values, rendered the same on every channel. */
export interface StepPreview {
  readonly index: number;
  readonly action: string;
  /** False: the preview could not be made (`unavailable` says why); the step is still shown and can be approved. */
  readonly available: boolean;
  readonly summary: string;
  readonly changes: readonly string[];
  readonly resources: readonly string[];
  /** "1 resource (ecs:prod/api) · 4 task(s) · 100% of its traffic". */
  readonly blastRadius: string;
  /** "+$0.1974/hour (2 → 6 tasks of 0.25 vCPU / 0.5 GB)", "no cost change (a rollback)", "cost change unknown: …". */
  readonly cost: string;
  /** The $/hour delta, null when unknown. */
  readonly costPerHour: number | null;
  readonly source: 'cloud' | 'parameters' | 'unavailable';
  readonly unavailable?: string;
}

const fleetHour = (f: TaskFleet, p: PreviewPrices): number => f.tasks * (f.vcpu * p.fargateVcpuHour + f.memoryGb * p.fargateGbHour);
const size = (f: TaskFleet): string => `${+f.vcpu.toFixed(3)} vCPU / ${+f.memoryGb.toFixed(3)} GB`;
const dollars = (usd: number): string => `${usd >= 0 ? '+' : '-'}$${Math.abs(usd).toFixed(4)}/hour`;

/** The step's cost change at the policy's prices: text and $/hour (null when unknown). Pure. */
export function priceCost(basis: CostBasis | undefined, prices: PreviewPrices): { readonly text: string; readonly perHour: number | null } {
  if (basis === undefined) return { text: 'cost change unknown', perHour: null };
  switch (basis.kind) {
    case 'none':
      return { text: `no cost change (${basis.why})`, perHour: 0 };
    case 'unknown':
      return { text: `cost change unknown: ${basis.why}`, perHour: null };
    case 'fargate': {
      const { before: b, after: a } = basis;
      const usd = fleetHour(a, prices) - fleetHour(b, prices);
      const sameSize = b.vcpu === a.vcpu && b.memoryGb === a.memoryGb;
      const what = sameSize ? `${b.tasks} → ${a.tasks} tasks of ${size(a)}` : `${b.tasks} tasks of ${size(b)} → ${a.tasks} of ${size(a)}`;
      return { text: `${dollars(usd)} (Fargate, ${what})`, perHour: usd };
    }
    case 'lambdaConcurrency': {
      const usd = basis.concurrencyDelta * basis.memoryGb * prices.lambdaProvisionedGbHour;
      return { text: `${dollars(usd)} (provisioned concurrency ${basis.concurrencyDelta >= 0 ? '+' : ''}${basis.concurrencyDelta} × ${+basis.memoryGb.toFixed(3)} GB)`, perHour: usd };
    }
  }
}

/** The blast radius in words: resources, tasks or functions touched, traffic share where known. Pure. */
export function blastText(resources: readonly string[], blast: BlastRadius | undefined): string {
  const parts = [resources.length === 0 ? 'no cloud resource' : `${resources.length} resource${resources.length === 1 ? '' : 's'} (${resources.join(', ')})`];
  if (blast?.tasks !== undefined) parts.push(`${blast.tasks} task${blast.tasks === 1 ? '' : 's'}`);
  if (blast?.functions !== undefined) parts.push(`${blast.functions} function${blast.functions === 1 ? '' : 's'}`);
  if (blast?.trafficShare !== undefined) parts.push(`${Math.round(blast.trafficShare * 100)}% of its traffic`);
  return parts.join(' · ');
}

/** A preview the cloud (or the parameters) gave, as the request stores it. */
export function fromPreview(index: number, step: ActionCall, p: Preview, prices: PreviewPrices): StepPreview {
  const cost = priceCost(p.cost, prices);
  return { index, action: step.action, available: true, summary: p.summary, changes: p.changes, resources: p.resources, blastRadius: blastText(p.resources, p.blast), cost: cost.text, costPerHour: cost.perHour, source: p.source };
}

/** The stored form of a preview that failed: the step from its parameters, and why. */
export function unavailablePreview(index: number, step: ActionCall, reason: string): StepPreview {
  const parsed = parseCall(step);
  const resources = parsed.ok ? parsed.entry.action.resources(parsed.params) : [];
  return {
    index,
    action: step.action,
    available: false,
    summary: describeCall(step),
    changes: [],
    resources,
    blastRadius: blastText(resources, undefined),
    cost: 'cost change unknown',
    costPerHour: null,
    source: 'unavailable',
    unavailable: reason.slice(0, 500),
  };
}

/** One line per step for text channels (Slack, email, CLI). Pure. */
export function previewLine(p: StepPreview): string {
  if (!p.available) return `preview unavailable: ${p.unavailable ?? 'unknown reason'} — ${p.summary}`;
  return [p.summary, ...(p.changes.length ? [`changes: ${p.changes.join('; ')}`] : []), `blast radius: ${p.blastRadius}`, `cost: ${p.cost}`].join(' — ');
}

export interface PreviewOptions {
  readonly prices: PreviewPrices;
  /** Deadline of each step's preview (wall clock: these are network reads). */
  readonly timeoutMs: number;
}

/** Runs one preview under its own deadline; the race returns even when the target ignores the signal. */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, parent: AbortSignal): Promise<T> {
  const ctl = new AbortController();
  const onParent = (): void => ctl.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer within ${ms} ms`);
      ctl.abort(err);
      reject(err);
    }, ms);
    ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason instanceof Error ? ctl.signal.reason : new Error('aborted')), { once: true });
  });
  try {
    return await Promise.race([work(ctl.signal), expired]);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParent);
  }
}

/**
 * Previews every step of a runbook (read-only, in parallel, each under its own deadline). Never throws:
 * a target without previews gives the parameters' description; a failed or late one is "unavailable".
 */
export async function previewSteps(actions: ActionTarget, steps: readonly ActionCall[], opts: PreviewOptions, signal: AbortSignal): Promise<StepPreview[]> {
  return Promise.all(
    steps.map(async (step, index): Promise<StepPreview> => {
      const parsed = parseCall(step);
      if (!parsed.ok) return unavailablePreview(index, step, parsed.problems.map((p) => p.message).join('; '));
      const preview = actions.preview?.bind(actions);
      if (!preview) return fromPreview(index, step, { summary: describeCall(step), changes: [], resources: parsed.entry.action.resources(parsed.params), source: 'parameters' }, opts.prices);
      try {
        return fromPreview(index, step, await withDeadline((s) => preview(step, s), opts.timeoutMs, signal), opts.prices);
      } catch (err) {
        return unavailablePreview(index, step, errorMessage(err));
      }
    }),
  );
}
