import {
  GetPipelineCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type ActionExecutionDetail,
  type CodePipelineClient,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { PermanentError } from '../../core/errors.js';
import { HOUR, type EpochMs } from '../../core/time.js';
import type { Deployment, DeploymentSource, DeploymentStatus, TimeRange } from '../ports.js';
import { awsCall } from './errors.js';

export interface CodePipelineOptions {
  /** How long an execution may run; executions that started this much before the range are not read. Default 6 h. */
  readonly maxExecutionMs?: number;
  /** At most this many executions per pipeline per call (newest first). Default 500. */
  readonly maxExecutionsPerPipeline?: number;
  /** The deploy stage per pipeline, when the last stage with a Deploy action is not the one that matters. */
  readonly deployStages?: Readonly<Record<string, string>>;
  /** Pipeline type (V1/V2) cache lifetime. Default 1 h. */
  readonly pipelineInfoTtlMs?: number;
  /** For the cache only. */
  readonly now?: () => number;
}

const STATUSES: ReadonlySet<string> = new Set<DeploymentStatus>(['InProgress', 'Succeeded', 'Failed', 'Stopped', 'Stopping', 'Superseded', 'Cancelled']);
const TERMINAL: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);
const ACTION_DONE: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Abandoned']);

/** The SDK status as the port's; an unknown future status counts as still running (it is not done). */
export function toDeploymentStatus(s: string | undefined): DeploymentStatus {
  return s !== undefined && STATUSES.has(s) ? (s as DeploymentStatus) : 'InProgress';
}

/** When the deploy stage of one execution ran, from its action executions. */
export function deployStageTiming(
  actions: readonly ActionExecutionDetail[],
  stage?: string,
): { stage: string; startedAt: EpochMs; endedAt?: EpochMs } | undefined {
  const chosen =
    stage ??
    // The last stage (by start) that holds a Deploy action: with staging and production stages, production.
    actions
      .filter((a) => a.input?.actionTypeId?.category === 'Deploy' && a.startTime !== undefined && a.stageName !== undefined)
      .sort((a, b) => a.startTime!.getTime() - b.startTime!.getTime())
      .at(-1)?.stageName;
  if (chosen === undefined) return undefined;
  const inStage = actions.filter((a) => a.stageName === chosen && a.startTime !== undefined);
  if (inStage.length === 0) return undefined;
  const startedAt = Math.min(...inStage.map((a) => a.startTime!.getTime())) as EpochMs;
  const done = inStage.every((a) => ACTION_DONE.has(a.status ?? ''));
  const endedAt = done ? (Math.max(...inStage.map((a) => (a.lastUpdateTime ?? a.startTime!).getTime())) as EpochMs) : undefined;
  return endedAt !== undefined ? { stage: chosen, startedAt, endedAt } : { stage: chosen, startedAt };
}

/** The port's Deployment from one execution summary (without stage timing). */
export function toDeployment(pipeline: string, s: PipelineExecutionSummary, pipelineType: 'V1' | 'V2' | undefined): Deployment | undefined {
  if (s.pipelineExecutionId === undefined || s.startTime === undefined) return undefined;
  const status = toDeploymentStatus(s.status);
  const rev = s.sourceRevisions?.[0];
  const ended = TERMINAL.has(status) ? (s.lastUpdateTime ?? s.startTime) : undefined;
  const d: { -readonly [K in keyof Deployment]: Deployment[K] } = {
    id: s.pipelineExecutionId,
    pipeline,
    status,
    startedAt: s.startTime.getTime() as EpochMs,
  };
  if (pipelineType !== undefined) d.pipelineType = pipelineType;
  if (ended !== undefined) d.endedAt = ended.getTime() as EpochMs;
  if (s.trigger?.triggerType !== undefined) d.triggerType = s.trigger.triggerType;
  const by = s.trigger?.triggerDetail ?? s.trigger?.triggerType;
  if (by !== undefined && by !== '') d.triggeredBy = by;
  if (rev?.revisionId !== undefined) d.revisionId = rev.revisionId;
  if (rev?.revisionSummary !== undefined) d.revisionSummary = rev.revisionSummary;
  if (rev?.revisionUrl !== undefined) d.revisionUrl = rev.revisionUrl;
  const target = s.rollbackMetadata?.rollbackTargetPipelineExecutionId;
  if (target !== undefined) d.rollbackOf = target;
  return d;
}

/** DeploymentSource over CodePipeline: executions, who started them, revisions and deploy-stage timing. */
export class CodePipelineDeploymentSource implements DeploymentSource {
  private readonly maxExecutionMs: number;
  private readonly maxPerPipeline: number;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly types = new Map<string, { type: 'V1' | 'V2'; at: number }>();

  constructor(
    private readonly client: CodePipelineClient,
    private readonly options: CodePipelineOptions = {},
  ) {
    this.maxExecutionMs = options.maxExecutionMs ?? 6 * HOUR;
    this.maxPerPipeline = options.maxExecutionsPerPipeline ?? 500;
    this.ttl = options.pipelineInfoTtlMs ?? HOUR;
    this.now = options.now ?? Date.now;
  }

  async list(pipelines: readonly string[], range: TimeRange, signal: AbortSignal): Promise<Deployment[]> {
    const settled = await Promise.allSettled([...new Set(pipelines)].map((p) => this.listOne(p, range, signal)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : [])).sort((a, b) => a.startedAt - b.startedAt);
  }

  /** V1 or V2 (rollback needs V2); cached. */
  async pipelineType(pipeline: string, signal: AbortSignal): Promise<'V1' | 'V2'> {
    const c = this.types.get(pipeline);
    if (c && this.now() - c.at < this.ttl) return c.type;
    const out = await awsCall(`codepipeline.GetPipeline(${pipeline})`, signal, () => this.client.send(new GetPipelineCommand({ name: pipeline }), { abortSignal: signal }));
    // The API omits pipelineType for pipelines created before V2 existed: those are V1.
    const type = out.pipeline?.pipelineType === 'V2' ? 'V2' : 'V1';
    this.types.set(pipeline, { type, at: this.now() });
    return type;
  }

  private async listOne(pipeline: string, range: TimeRange, signal: AbortSignal): Promise<Deployment[]> {
    const type = await this.pipelineType(pipeline, signal);
    const summaries = await this.executions(pipeline, range, signal);
    const out: Deployment[] = [];
    for (const s of summaries) {
      const d = toDeployment(pipeline, s, type);
      if (!d) continue;
      const end = d.endedAt ?? (Number.POSITIVE_INFINITY as EpochMs);
      // Overlaps the range: started before its end and had not ended before its start.
      if (!(d.startedAt < range.end && end >= range.start)) continue;
      const timing = deployStageTiming(await this.actionExecutions(pipeline, d.id, signal), this.options.deployStages?.[pipeline]);
      out.push(timing ? { ...d, deployStage: timing.stage, deployStartedAt: timing.startedAt, ...(timing.endedAt !== undefined ? { deployEndedAt: timing.endedAt } : {}) } : d);
    }
    return out;
  }

  /** Newest first; stops once executions start too long before the range to touch it. */
  private async executions(pipeline: string, range: TimeRange, signal: AbortSignal): Promise<PipelineExecutionSummary[]> {
    const out: PipelineExecutionSummary[] = [];
    const oldest = range.start - this.maxExecutionMs;
    let token: string | undefined;
    do {
      const page = await awsCall(`codepipeline.ListPipelineExecutions(${pipeline})`, signal, () =>
        this.client.send(
          new ListPipelineExecutionsCommand({ pipelineName: pipeline, maxResults: 100, ...(token !== undefined ? { nextToken: token } : {}) }),
          { abortSignal: signal },
        ),
      );
      let tooOld = false;
      for (const s of page.pipelineExecutionSummaries ?? []) {
        if (s.startTime !== undefined && s.startTime.getTime() < oldest) {
          tooOld = true;
          continue;
        }
        out.push(s);
      }
      token = !tooOld && page.nextToken !== undefined && page.nextToken !== '' ? page.nextToken : undefined;
    } while (token !== undefined && out.length < this.maxPerPipeline);
    return out.slice(0, this.maxPerPipeline);
  }

  private async actionExecutions(pipeline: string, executionId: string, signal: AbortSignal): Promise<ActionExecutionDetail[]> {
    const out: ActionExecutionDetail[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await awsCall(`codepipeline.ListActionExecutions(${pipeline})`, signal, () =>
        this.client.send(
          new ListActionExecutionsCommand({ pipelineName: pipeline, filter: { pipelineExecutionId: executionId }, maxResults: 100, ...(token !== undefined ? { nextToken: token } : {}) }),
          { abortSignal: signal },
        ),
      );
      out.push(...(page.actionExecutionDetails ?? []));
      token = page.nextToken !== undefined && page.nextToken !== '' ? page.nextToken : undefined;
      pages += 1;
      if (pages > 50) throw new PermanentError(`codepipeline.ListActionExecutions(${pipeline}) kept returning pages for execution ${executionId}`);
    } while (token !== undefined);
    return out;
  }
}
