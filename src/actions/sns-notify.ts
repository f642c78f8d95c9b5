import { PublishCommand } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { awsCall } from '../cloud/aws/errors.js';
import { defineAction } from './action.js';
import { keyDigest } from './params.js';

const schema = z.strictObject({
  topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'expected an SNS topic ARN'),
  subject: z.string().min(1).max(99).regex(/^[\x20-\x7e]+$/, 'expected ASCII without line breaks (SNS subject)').optional(),
  message: z.string().min(1).max(10_000),
});
type P = z.output<typeof schema>;

/**
 * sns.notify: tell people or systems (a step of the runbook, not the approval announcement). A FIFO topic
 * deduplicates on the key's digest; a standard topic keeps nothing to read back, so `check` cannot tell.
 */
export const snsNotify = defineAction<P>({
  name: 'sns.notify',
  description: 'publish a message to an SNS topic',
  risk: 'low',
  schema,
  iam: { read: [], write: ['sns:Publish'], resource: 'arn:aws:sns:*:*:*' },
  resources: (p) => [`sns:${p.topicArn}`],
  describe: (p) => `publish "${p.subject ?? p.message.slice(0, 60)}" to ${p.topicArn.split(':').pop() ?? p.topicArn}`,
  preview: async (ctx) => ({ summary: `publish "${ctx.params.subject ?? ctx.params.message.slice(0, 60)}" to ${ctx.params.topicArn}`, changes: [], resources: [`sns:${ctx.params.topicArn}`], source: 'parameters', cost: { kind: 'none', why: 'a notification' } }),
  preconditions: async () => ({ ok: true }),
  async execute(ctx) {
    const p = ctx.params;
    const fifo = p.topicArn.endsWith('.fifo');
    const out = await awsCall('sns.Publish', ctx.signal, () =>
      ctx.aws.sns.send(
        new PublishCommand({ TopicArn: p.topicArn, Message: p.message, ...(p.subject !== undefined ? { Subject: p.subject } : {}), ...(fifo ? { MessageGroupId: 'cloudops-watcher', MessageDeduplicationId: keyDigest(ctx.key) } : {}) }),
        { abortSignal: ctx.signal },
      ),
    );
    return { ok: true, summary: `published to ${p.topicArn} (message ${out.MessageId ?? '?'})`, refs: { messageId: out.MessageId ?? '' } };
  },
  check: async () => 'unknown',
  // Publish has no read-back: SNS accepted the message when it returned a message id.
  verify: async (_ctx, result) => (result.refs?.['messageId'] ? { ok: true, detail: `SNS accepted message ${result.refs['messageId']}` } : { ok: false, detail: 'SNS returned no message id' }),
  sim: (_world, p) => ({ ok: true, summary: `published to ${p.topicArn}` }),
});
