import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { fitMessage, SnsNotifier, snsSubject } from '../../../src/cloud/aws/sns-notifier.js';

describe('SNS helpers', () => {
  it('makes an ASCII subject under 100 characters with no line breaks', () => {
    expect(snsSubject('Déploiement “api” — 5xx\nspike')).toBe('Deploiement "api" - 5xx spike');
    const long = snsSubject('x'.repeat(300));
    expect(long.length).toBe(99);
    expect(long.endsWith('...')).toBe(true);
    expect(snsSubject('日本')).toMatch(/^[\x20-\x7e]+$/);
  });

  it('cuts a long body on a character boundary and points to the full page', () => {
    const out = fitMessage('é'.repeat(1000), 'https://x.invalid/i/1', 501);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(501);
    expect(out).not.toContain('\uFFFD');
    expect(out.endsWith('the full text is at https://x.invalid/i/1]')).toBe(true);
    expect(fitMessage('short', 'u', 100)).toBe('short');
  });
});

describe('SnsNotifier (mocked client)', () => {
  it('publishes with subject, link and filterable attributes, and maps AccessDenied to a PermanentError', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolvesOnce({ MessageId: 'm1' }).rejects(Object.assign(new Error('denied'), { name: 'AuthorizationError', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    const n = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:123456789012:ops');
    const a = { kind: 'proposal' as const, incidentId: 'inc-1', title: 'api: 5xx up after deploy', text: 'body', url: 'https://x.invalid/i/1', state: 'awaiting_approval' };
    await n.announce(a, AbortSignal.timeout(5000));
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
      Subject: 'api: 5xx up after deploy',
      Message: 'body\n\nhttps://x.invalid/i/1',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'proposal' }, incidentId: { DataType: 'String', StringValue: 'inc-1' }, state: { DataType: 'String', StringValue: 'awaiting_approval' } },
    });
    await expect(n.announce(a, AbortSignal.timeout(5000))).rejects.toMatchObject({ name: 'PermanentError', retryable: false });
  });
});
