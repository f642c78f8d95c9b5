import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small CodePipeline server that speaks the real AWS JSON 1.1 protocol
 * (`X-Amz-Target: CodePipeline_20150709.<Operation>`), so the real SDK client is exercised. moto has
 * no pipeline executions, so this fills the gap; every other request is forwarded unchanged to
 * `forwardTo` (moto), which lets one AWS_ENDPOINT_URL serve every service.
 */

export interface StubAction {
  readonly stageName: string;
  readonly actionName: string;
  readonly category: 'Source' | 'Build' | 'Test' | 'Deploy' | 'Approval' | 'Invoke';
  readonly startTime: number;
  readonly lastUpdateTime: number;
  readonly status: 'InProgress' | 'Succeeded' | 'Failed' | 'Abandoned';
}

export interface StubExecution {
  readonly pipelineExecutionId: string;
  status: string;
  readonly startTime: number;
  lastUpdateTime: number;
  readonly trigger?: { triggerType: string; triggerDetail?: string };
  readonly sourceRevisions?: { actionName: string; revisionId?: string; revisionSummary?: string; revisionUrl?: string }[];
  readonly executionType?: 'STANDARD' | 'ROLLBACK';
  readonly rollbackMetadata?: { rollbackTargetPipelineExecutionId: string };
  readonly actions: StubAction[];
  stopReason?: string;
}

export interface StubPipeline {
  readonly name: string;
  readonly pipelineType: 'V1' | 'V2';
  readonly stages: readonly string[];
  /** Newest first, as the API lists them. */
  readonly executions: StubExecution[];
  /** Stages whose inbound transition is disabled, with the reason. */
  readonly disabled?: Map<string, string>;
}

export interface CodePipelineStub {
  readonly url: string;
  readonly pipelines: Map<string, StubPipeline>;
  /** Every operation called, in order (for assertions). */
  readonly calls: string[];
  /** Operations that should fail next, e.g. { ListPipelineExecutions: 'ThrottlingException' }. */
  readonly failNext: Map<string, string>;
  addPipeline(p: Omit<StubPipeline, 'executions'> & { executions?: StubExecution[] }): StubPipeline;
  reset(): void;
  close(): Promise<void>;
}

const TARGET = 'CodePipeline_20150709.';
const secs = (ms: number): number => ms / 1000;

function err(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify({ __type: type, message }));
}

function ok(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(body));
}

function summary(e: StubExecution): Record<string, unknown> {
  return {
    pipelineExecutionId: e.pipelineExecutionId,
    status: e.status,
    startTime: secs(e.startTime),
    lastUpdateTime: secs(e.lastUpdateTime),
    ...(e.trigger ? { trigger: e.trigger } : {}),
    ...(e.sourceRevisions ? { sourceRevisions: e.sourceRevisions } : {}),
    executionType: e.executionType ?? 'STANDARD',
    ...(e.rollbackMetadata ? { rollbackMetadata: e.rollbackMetadata } : {}),
    ...(e.stopReason !== undefined ? { stopTrigger: { reason: e.stopReason } } : {}),
  };
}

function page<T>(items: readonly T[], body: Record<string, unknown>): { items: T[]; nextToken?: string } {
  const max = typeof body.maxResults === 'number' ? body.maxResults : 100;
  const from = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
  const slice = items.slice(from, from + max);
  return from + max < items.length ? { items: slice, nextToken: String(from + max) } : { items: slice };
}

export async function startCodePipelineStub(options: { forwardTo?: string; port?: number } = {}): Promise<CodePipelineStub> {
  const pipelines = new Map<string, StubPipeline>();
  const calls: string[] = [];
  const failNext = new Map<string, string>();

  const handle = (op: string, body: Record<string, unknown>, res: ServerResponse): void => {
    calls.push(op);
    const failure = failNext.get(op);
    if (failure !== undefined) {
      failNext.delete(op);
      return err(res, failure.startsWith('Throttling') ? 400 : failure.startsWith('Internal') ? 500 : 400, failure, `stub: ${failure}`);
    }
    const name = (body.pipelineName ?? body.name) as string | undefined;
    const p = name !== undefined ? pipelines.get(name) : undefined;
    if (!p) return err(res, 400, 'PipelineNotFoundException', `The account with id '123456789012' does not include a pipeline with the name '${name ?? ''}'`);
    switch (op) {
      case 'GetPipeline':
        return ok(res, {
          pipeline: {
            name: p.name,
            roleArn: 'arn:aws:iam::123456789012:role/pipeline',
            version: 1,
            pipelineType: p.pipelineType,
            stages: p.stages.map((s) => ({ name: s, actions: [] })),
          },
          metadata: { pipelineArn: `arn:aws:codepipeline:us-east-1:123456789012:${p.name}` },
        });
      case 'ListPipelineExecutions': {
        const filter = body.filter as { succeededInStage?: { stageName?: string } } | undefined;
        const stage = filter?.succeededInStage?.stageName;
        const list = stage === undefined ? p.executions : p.executions.filter((e) => e.actions.some((a) => a.stageName === stage) && e.actions.filter((a) => a.stageName === stage).every((a) => a.status === 'Succeeded'));
        const pg = page(list, body);
        return ok(res, { pipelineExecutionSummaries: pg.items.map(summary), ...(pg.nextToken !== undefined ? { nextToken: pg.nextToken } : {}) });
      }
      case 'GetPipelineExecution': {
        const e = p.executions.find((x) => x.pipelineExecutionId === body.pipelineExecutionId);
        if (!e) return err(res, 400, 'PipelineExecutionNotFoundException', `execution ${String(body.pipelineExecutionId)} not found`);
        return ok(res, { pipelineExecution: { pipelineName: p.name, pipelineVersion: 1, ...summary(e) } });
      }
      case 'ListActionExecutions': {
        const id = (body.filter as { pipelineExecutionId?: string } | undefined)?.pipelineExecutionId;
        const details = p.executions
          .filter((e) => id === undefined || e.pipelineExecutionId === id)
          .flatMap((e) =>
            e.actions.map((a, i) => ({
              pipelineExecutionId: e.pipelineExecutionId,
              actionExecutionId: `${e.pipelineExecutionId}-${i}`,
              pipelineVersion: 1,
              stageName: a.stageName,
              actionName: a.actionName,
              startTime: secs(a.startTime),
              lastUpdateTime: secs(a.lastUpdateTime),
              status: a.status,
              input: { actionTypeId: { category: a.category, owner: 'AWS', provider: a.category === 'Deploy' ? 'ECS' : 'CodeBuild', version: '1' } },
            })),
          );
        const pg = page(details, body);
        return ok(res, { actionExecutionDetails: pg.items, ...(pg.nextToken !== undefined ? { nextToken: pg.nextToken } : {}) });
      }
      case 'StopPipelineExecution': {
        const e = p.executions.find((x) => x.pipelineExecutionId === body.pipelineExecutionId);
        if (!e) return err(res, 400, 'PipelineExecutionNotFoundException', 'not found');
        if (e.status === 'Stopping') return err(res, 400, 'DuplicatedStopRequestException', 'already stopping');
        if (e.status !== 'InProgress') return err(res, 400, 'PipelineExecutionNotStoppableException', 'not stoppable');
        e.status = body.abandon === true ? 'Stopped' : 'Stopping';
        e.stopReason = typeof body.reason === 'string' ? body.reason : undefined;
        return ok(res, { pipelineExecutionId: e.pipelineExecutionId });
      }
      case 'RollbackStage': {
        if (p.pipelineType !== 'V2') return err(res, 400, 'ValidationException', 'Rollback is only supported for V2 pipelines');
        const target = p.executions.find((x) => x.pipelineExecutionId === body.targetPipelineExecutionId);
        if (!target) return err(res, 400, 'PipelineExecutionNotFoundException', 'target not found');
        const now = Date.now();
        const e: StubExecution = {
          pipelineExecutionId: randomUUID(),
          status: 'InProgress',
          startTime: now,
          lastUpdateTime: now,
          trigger: { triggerType: 'ManualRollback', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/cloudops/task' },
          executionType: 'ROLLBACK',
          rollbackMetadata: { rollbackTargetPipelineExecutionId: target.pipelineExecutionId },
          ...(target.sourceRevisions ? { sourceRevisions: target.sourceRevisions } : {}),
          actions: [{ stageName: String(body.stageName), actionName: 'Deploy', category: 'Deploy', startTime: now, lastUpdateTime: now, status: 'InProgress' }],
        };
        p.executions.unshift(e);
        return ok(res, { pipelineExecutionId: e.pipelineExecutionId });
      }
      case 'GetPipelineState': {
        const disabled = p.disabled ?? new Map<string, string>();
        return ok(res, {
          pipelineName: p.name,
          pipelineVersion: 1,
          stageStates: p.stages.map((stage) => {
            const latest = p.executions.find((e) => e.actions.some((a) => a.stageName === stage));
            const acts = latest?.actions.filter((a) => a.stageName === stage) ?? [];
            const status = acts.some((a) => a.status === 'InProgress') ? 'InProgress' : acts.some((a) => a.status === 'Failed') ? 'Failed' : 'Succeeded';
            return {
              stageName: stage,
              inboundTransitionState: disabled.has(stage) ? { enabled: false, disabledReason: disabled.get(stage) } : { enabled: true },
              ...(latest ? { latestExecution: { pipelineExecutionId: latest.pipelineExecutionId, status, type: latest.executionType ?? 'STANDARD' } } : {}),
            };
          }),
        });
      }
      case 'DisableStageTransition':
      case 'EnableStageTransition': {
        const stage = String(body.stageName);
        if (!p.stages.includes(stage)) return err(res, 400, 'StageNotFoundException', `stage ${stage} not found`);
        if (body.transitionType !== 'Inbound' && body.transitionType !== 'Outbound') return err(res, 400, 'ValidationException', 'transitionType must be Inbound or Outbound');
        const disabled = p.disabled ?? new Map<string, string>();
        (p as { disabled?: Map<string, string> }).disabled = disabled;
        if (op === 'DisableStageTransition') {
          if (typeof body.reason !== 'string' || body.reason === '') return err(res, 400, 'ValidationException', 'reason is required');
          disabled.set(stage, body.reason);
        } else disabled.delete(stage);
        return ok(res, {});
      }
      default:
        return err(res, 400, 'UnknownOperationException', `stub does not implement ${op}`);
    }
  };

  const forward = (req: IncomingMessage, raw: Buffer, res: ServerResponse): void => {
    if (options.forwardTo === undefined) return err(res, 404, 'UnknownOperationException', 'no forward target configured');
    const target = new URL(req.url ?? '/', options.forwardTo);
    const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (e) => err(res, 502, 'ServiceUnavailable', `forward to ${target.origin} failed: ${e.message}`));
    up.end(raw);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(TARGET)) return forward(req, raw, res);
      let body: Record<string, unknown>;
      try {
        body = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
      } catch {
        return err(res, 400, 'SerializationException', 'body is not JSON');
      }
      handle(target.slice(TARGET.length), body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pipelines,
    calls,
    failNext,
    addPipeline(p) {
      const full: StubPipeline = { ...p, executions: p.executions ?? [] };
      pipelines.set(p.name, full);
      return full;
    },
    reset() {
      pipelines.clear();
      calls.length = 0;
      failNext.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
