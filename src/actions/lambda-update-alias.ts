import { GetAliasCommand, ListVersionsByFunctionCommand, UpdateAliasCommand, type GetAliasCommandOutput } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import type { ActionCheck } from '../cloud/ports.js';
import { PermanentError } from '../core/errors.js';
import { defineAction, verifyByCheck, type ActionContext } from './action.js';
import { awsName } from './params.js';

const version = z.string().regex(/^[0-9]{1,10}$/, 'expected a published version number ($LATEST is not a version to roll back to)');

const schema = z.strictObject({
  functionName: awsName(170),
  alias: z.string().regex(/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/, 'expected a Lambda alias name'),
  /** The suspect version: the approval holds only while the alias still points at it. */
  fromVersion: version.optional(),
  /** Explicit target; omitted = the newest published version below the one rolled back from. */
  toVersion: version.optional(),
});
type P = z.output<typeof schema>;

async function getAlias(ctx: ActionContext<P>): Promise<GetAliasCommandOutput> {
  return awsCall('lambda.GetAlias', ctx.signal, () => ctx.aws.lambda.send(new GetAliasCommand({ FunctionName: ctx.params.functionName, Name: ctx.params.alias }), { abortSignal: ctx.signal }));
}

async function versions(ctx: ActionContext<P>): Promise<number[]> {
  const out: number[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('lambda.ListVersionsByFunction', ctx.signal, () =>
      ctx.aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: ctx.params.functionName, MaxItems: 50, ...(marker !== undefined ? { Marker: marker } : {}) }), { abortSignal: ctx.signal }),
    );
    for (const v of page.Versions ?? []) if (v.Version !== undefined && /^\d+$/.test(v.Version)) out.push(Number(v.Version));
    marker = page.NextMarker !== undefined && page.NextMarker !== '' ? page.NextMarker : undefined;
  } while (marker !== undefined && out.length < 1000);
  return out.sort((a, b) => a - b);
}

/** The version to point at: explicit, or the newest published one below `from` (the suspect, else the alias's current version). */
async function target(ctx: ActionContext<P>, current: string | undefined): Promise<string> {
  if (ctx.params.toVersion !== undefined) return ctx.params.toVersion;
  const from = Number(ctx.params.fromVersion ?? current);
  if (!Number.isInteger(from)) throw new PermanentError(`alias ${ctx.params.alias} of ${ctx.params.functionName} points at ${current ?? 'nothing'}: no published version to step back from`);
  const below = (await versions(ctx)).filter((v) => v < from);
  const pick = below[below.length - 1];
  if (pick === undefined) throw new PermanentError(`function ${ctx.params.functionName} has no published version before ${from}`);
  return String(pick);
}

const weights = (a: GetAliasCommandOutput): string => Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {}).map(([v, w]) => `${v}@${w}`).join(',');

/**
 * lambda.updateAlias: point an alias back at the previous version (clearing canary weights). UpdateAlias
 * carries the RevisionId read just before, so a change made meanwhile makes the call fail, not overwrite.
 */
export const lambdaUpdateAlias = defineAction<P>({
  name: 'lambda.updateAlias',
  description: 'point a Lambda alias back at an earlier published version',
  risk: 'medium',
  schema,
  iam: { read: ['lambda:GetAlias', 'lambda:ListVersionsByFunction'], write: ['lambda:UpdateAlias'], resource: 'arn:aws:lambda:*:*:function:*' },
  resources: (p) => [`lambda:${p.functionName}:${p.alias}`],
  describe: (p) => `point alias ${p.alias} of Lambda function ${p.functionName} at ${p.toVersion !== undefined ? `version ${p.toVersion}` : 'the previous version'}`,
  async preview(ctx) {
    const a = await getAlias(ctx);
    const to = await target(ctx, a.FunctionVersion);
    const w = weights(a);
    return {
      summary: `point alias ${ctx.params.alias} of ${ctx.params.functionName} from version ${a.FunctionVersion ?? '?'}${w ? ` (+${w})` : ''} to ${to}`,
      changes: [`${ctx.params.functionName}:${ctx.params.alias} version: ${a.FunctionVersion ?? '?'} → ${to}`, ...(w ? [`routing weights: ${w} → none`] : [])],
      resources: [`lambda:${ctx.params.functionName}:${ctx.params.alias}`],
      source: 'cloud',
      // Every invocation through the alias goes to the target afterwards; provisioned concurrency stays with the alias.
      blast: { functions: 1, trafficShare: 1 },
      cost: { kind: 'none', why: 'a rollback' },
    };
  },
  async preconditions(ctx) {
    const a = await getAlias(ctx);
    const from = ctx.params.fromVersion;
    if (from !== undefined && a.FunctionVersion !== from) {
      return { ok: false, code: 'target_changed', detail: `alias ${ctx.params.alias} of ${ctx.params.functionName} now points at version ${a.FunctionVersion ?? '?'}, not the suspect version ${from} approved for rollback` };
    }
    let to: string;
    try {
      to = await target(ctx, a.FunctionVersion);
    } catch (err) {
      return { ok: false, code: 'no_target', detail: err instanceof Error ? err.message : String(err) };
    }
    if (!(await versions(ctx)).includes(Number(to))) return { ok: false, code: 'no_target', detail: `version ${to} of ${ctx.params.functionName} does not exist` };
    return { ok: true };
  },
  async execute(ctx) {
    const a = await getAlias(ctx);
    const to = await target(ctx, a.FunctionVersion);
    const out = await awsCall('lambda.UpdateAlias', ctx.signal, () =>
      ctx.aws.lambda.send(
        new UpdateAliasCommand({ FunctionName: ctx.params.functionName, Name: ctx.params.alias, FunctionVersion: to, RoutingConfig: { AdditionalVersionWeights: {} }, ...(a.RevisionId !== undefined ? { RevisionId: a.RevisionId } : {}) }),
        { abortSignal: ctx.signal },
      ),
    );
    return { ok: true, summary: `pointed alias ${ctx.params.alias} of ${ctx.params.functionName} from version ${a.FunctionVersion ?? '?'} to ${to}`, refs: { functionVersion: out.FunctionVersion ?? to, revisionId: out.RevisionId ?? '' } };
  },
  async check(ctx): Promise<ActionCheck> {
    const a = await getAlias(ctx);
    const { fromVersion: from, toVersion: to } = ctx.params;
    if (from !== undefined && a.FunctionVersion === from) return 'not_started';
    if (to !== undefined) return a.FunctionVersion === to && weights(a) === '' ? 'done' : 'unknown';
    if (from === undefined) return 'unknown'; // "the previous version" moved with the alias
    return a.FunctionVersion === (await target(ctx, from)) ? 'done' : 'unknown';
  },
  async verify(ctx, result) {
    // An error the cloud check settled as done leaves no refs: the action's check is the verify then.
    if (result.refs?.['functionVersion'] === undefined) return verifyByCheck((c) => this.check(c), ctx, `alias ${ctx.params.alias} of ${ctx.params.functionName} on its previous version`);
    const to = result.refs?.['functionVersion'] ?? '';
    const a = await getAlias(ctx);
    const where = `alias ${ctx.params.alias} of ${ctx.params.functionName}`;
    if (a.FunctionVersion !== to) return { ok: false, detail: `${where} points at version ${a.FunctionVersion ?? '?'}, not ${to}` };
    return weights(a) === '' ? { ok: true, detail: `${where} points at version ${to}` } : { ok: false, detail: `${where} still routes a share elsewhere (${weights(a)})` };
  },
  sim: (world, p, at) => world.rollbackService(p.functionName, at),
  simPreview: (world, p, at) => {
    const undone = world.wouldUndo({ service: p.functionName }, at);
    return {
      summary: undone.length > 0 ? `roll Lambda function ${p.functionName} back to the version before ${undone.join(', ')}` : `no deployment of ${p.functionName} to roll back`,
      changes: undone.map((id) => `deployment ${id}: undone`),
      resources: [`lambda:${p.functionName}:${p.alias}`],
      source: 'cloud',
      blast: { functions: 1, trafficShare: 1 },
      cost: { kind: 'none', why: 'a rollback' },
    };
  },
});
