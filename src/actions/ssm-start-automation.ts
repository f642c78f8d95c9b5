import { DescribeAutomationExecutionsCommand, DescribeDocumentCommand, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import { defineAction, verifyByCheck, type ActionContext } from './action.js';
import { keyDigest, uuidFromKey } from './params.js';

/** Automation input parameters as the API takes them: name → list of strings, written as JSON in the step. */
const automationParams = z
  .string()
  .max(4096)
  .transform((s, c) => {
    try {
      return z.record(z.string().regex(/^[A-Za-z0-9_]{1,50}$/), z.array(z.string().max(512)).max(50)).parse(JSON.parse(s));
    } catch {
      c.addIssue({ code: 'custom', message: 'expected a JSON object of parameter name → list of strings, e.g. {"InstanceId":["i-0abc"]}' });
      return z.NEVER;
    }
  });

const schema = z.strictObject({
  /** Only documents the policy lists (its `documentName.enum`; the cross-check insists on one). */
  documentName: z.string().regex(/^[a-zA-Z0-9_\-.:/]{3,128}$/, 'expected an SSM document name'),
  documentVersion: z.string().regex(/^([$]LATEST|[$]DEFAULT|[0-9]{1,10})$/).optional(),
  parameters: automationParams.optional(),
});
type P = z.output<typeof schema>;

/** The tag that marks the execution this step started; DescribeAutomationExecutions can filter on a tag key. */
const marker = (key: string): string => `cloudops:${keyDigest(key)}`;

async function mine(ctx: ActionContext<P>): Promise<{ id: string; status: string } | null> {
  const out = await awsCall('ssm.DescribeAutomationExecutions', ctx.signal, () =>
    ctx.aws.ssm.send(new DescribeAutomationExecutionsCommand({ Filters: [{ Key: 'TagKey', Values: [marker(ctx.key)] }], MaxResults: 5 }), { abortSignal: ctx.signal }),
  );
  const e = out.AutomationExecutionMetadataList?.[0];
  return e?.AutomationExecutionId !== undefined ? { id: e.AutomationExecutionId, status: e.AutomationExecutionStatus ?? 'Unknown' } : null;
}

/**
 * ssm.startAutomation: StartAutomationExecution of a document the policy lists, with a ClientToken derived
 * from the step's key (a repeated call cannot start a second execution) and a tag by which `check` finds it.
 */
export const ssmStartAutomation = defineAction<P>({
  name: 'ssm.startAutomation',
  description: 'start an SSM Automation runbook the policy lists',
  risk: 'high',
  schema,
  iam: { read: ['ssm:DescribeDocument', 'ssm:DescribeAutomationExecutions'], write: ['ssm:StartAutomationExecution', 'ssm:AddTagsToResource'], resource: '*' },
  resources: (p) => [`ssm:${p.documentName}`],
  describe: (p) => `start SSM Automation ${p.documentName}${p.documentVersion !== undefined ? ` (version ${p.documentVersion})` : ''}${p.parameters ? ` with ${Object.keys(p.parameters).join(', ')}` : ''}`,
  async preview(ctx) {
    const p = ctx.params;
    const out = await awsCall('ssm.DescribeDocument', ctx.signal, () => ctx.aws.ssm.send(new DescribeDocumentCommand({ Name: p.documentName, ...(p.documentVersion !== undefined ? { DocumentVersion: p.documentVersion } : {}) }), { abortSignal: ctx.signal }));
    const d = out.Document;
    return {
      summary: `start SSM Automation ${p.documentName} v${d?.DocumentVersion ?? '?'}${d?.Description !== undefined ? `: ${d.Description.slice(0, 200)}` : ''}`,
      changes: Object.entries(p.parameters ?? {}).map(([k, v]) => `${k} = ${v.join(', ')}`),
      resources: [`ssm:${p.documentName}`],
      source: 'cloud',
      cost: { kind: 'unknown', why: 'depends on what the automation document does' },
    };
  },
  async preconditions(ctx) {
    const p = ctx.params;
    try {
      await awsCall('ssm.DescribeDocument', ctx.signal, () => ctx.aws.ssm.send(new DescribeDocumentCommand({ Name: p.documentName, ...(p.documentVersion !== undefined ? { DocumentVersion: p.documentVersion } : {}) }), { abortSignal: ctx.signal }));
    } catch (err) {
      return { ok: false, code: 'no_target', detail: `SSM document ${p.documentName} cannot be read: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { ok: true };
  },
  async execute(ctx) {
    const p = ctx.params;
    const out = await awsCall('ssm.StartAutomationExecution', ctx.signal, () =>
      ctx.aws.ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: p.documentName,
          ...(p.documentVersion !== undefined ? { DocumentVersion: p.documentVersion } : {}),
          ...(p.parameters ? { Parameters: p.parameters } : {}),
          ClientToken: uuidFromKey(ctx.key),
          Tags: [{ Key: marker(ctx.key), Value: 'cloudops-watcher' }],
        }),
        { abortSignal: ctx.signal },
      ),
    );
    return { ok: true, summary: `started SSM Automation ${p.documentName} (execution ${out.AutomationExecutionId ?? '?'})`, refs: { automationExecutionId: out.AutomationExecutionId ?? '' } };
  },
  async check(ctx) {
    const e = await mine(ctx);
    if (!e) return 'not_started';
    if (e.status === 'Success') return 'done';
    if (['Pending', 'InProgress', 'Waiting', 'Cancelling', 'PendingApproval', 'Approved', 'Scheduled', 'RunbookInProgress', 'PendingChangeCalendarOverride', 'ChangeCalendarOverrideApproved', 'Exiting'].includes(e.status)) return 'in_progress';
    return 'unknown'; // failed, timed out, cancelled: a person decides
  },
  verify(ctx) {
    return verifyByCheck((c) => this.check(c), ctx, `an automation execution of ${ctx.params.documentName} for this step`);
  },
  sim: (_world, p) => ({ ok: true, summary: `started SSM Automation ${p.documentName}` }),
});
