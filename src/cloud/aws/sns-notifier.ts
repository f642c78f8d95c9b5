import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Announcement, Notifier } from '../ports.js';
import { awsCall } from './errors.js';

/** SNS Publish limits: the whole message, attributes included, ≤ 256 KiB; Subject < 100 ASCII characters. */
export const MAX_MESSAGE_BYTES = 262_144;
export const MAX_SUBJECT_CHARS = 99;

/** An email subject SNS accepts: ASCII, no control characters or line breaks, < 100 characters. */
export function snsSubject(title: string): string {
  const ascii = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // é → e
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  const s = ascii === '' ? 'cloudops-watcher notification' : ascii;
  return s.length <= MAX_SUBJECT_CHARS ? s : `${s.slice(0, MAX_SUBJECT_CHARS - 3).trimEnd()}...`;
}

/** Message attributes for subscription filter policies (e.g. {"kind": ["proposal"]}). */
export function snsAttributes(a: Announcement): Record<string, MessageAttributeValue> {
  const attrs: Record<string, MessageAttributeValue> = {};
  const put = (k: string, v: string): void => {
    // SNS rejects empty attribute values.
    if (v !== '') attrs[k] = { DataType: 'String', StringValue: v.slice(0, 256) };
  };
  put('kind', a.kind);
  put('incidentId', a.incidentId);
  put('state', a.state);
  put('source', 'cloudops-watcher');
  return attrs;
}

function attributesBytes(attrs: Record<string, MessageAttributeValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(attrs)) n += Buffer.byteLength(k) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  return n;
}

/** Cuts text to `maxBytes` of UTF-8 without splitting a character, ending with a pointer to the full page. */
export function fitMessage(text: string, url: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const tail = `\n\n[message cut to fit SNS; the full text is at ${url}]`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(tail));
  const buf = Buffer.from(text).subarray(0, budget);
  // Drop a trailing partial UTF-8 sequence.
  let end = buf.length;
  let i = end - 1;
  while (i >= 0 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = buf[i]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return buf.subarray(0, end).toString('utf8') + tail;
}

/** Notifier over one standard SNS topic (email subscribers get Subject and plain text). */
export class SnsNotifier implements Notifier {
  readonly channel = 'sns';

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async announce(a: Announcement, signal: AbortSignal): Promise<void> {
    const attrs = snsAttributes(a);
    const body = `${a.text}\n\n${a.url}`;
    const Message = fitMessage(body, a.url, MAX_MESSAGE_BYTES - attributesBytes(attrs) - 1024);
    await awsCall('sns.Publish', signal, () =>
      this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: snsSubject(a.title), Message, MessageAttributes: attrs }), { abortSignal: signal }),
    );
  }
}
