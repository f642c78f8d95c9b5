import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import { previewLine } from '../execute/step-preview.js';
import type { Announcement, Notifier } from '../cloud/ports.js';
import { awsCall } from '../cloud/aws/errors.js';
import { fitMessage, MAX_MESSAGE_BYTES, snsSubject } from '../cloud/aws/sns-notifier.js';
import type { Clock } from '../core/clock.js';
import { plainLine } from '../core/sanitize.js';
import type { Incident } from '../incident/incident.js';
import { approvalRules, type CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import { analysisView } from './agent-analysis-lines.js';
import { checkLinkSecret, emailLinkUrl, signEmailLinkToken } from './email-link.js';

/** One email for one approver; published to SNS with the `approver` attribute so a subscription filter picks it. */
export interface EmailMessage {
  readonly approver: string;
  readonly email: string;
  readonly subject: string;
  readonly text: string;
  /** The signed link in the text, or null when this approver gets no decision link. */
  readonly link: string | null;
  /** The incident page (where a cut message points). */
  readonly pageUrl: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface EmailLinkOptions {
  readonly secret: string | Buffer;
  /** Base address of the pages (the ALB's name when behind one). */
  readonly publicUrl: string;
  readonly now: number;
  /** Fixed token ids for tests; otherwise random. */
  readonly jti?: (approver: string) => string;
}

/** Announcements that ask for a decision carry per-approver links; the others are plain news. */
const ASKS = new Set<Announcement['kind']>(['proposal', 'reminder']);

/**
 * The signed link for one approver on an incident awaiting approval, or null when there is nothing to
 * decide. The token expires with the approval request and names the runbook hash shown.
 */
export function emailLinkFor(inc: Incident, approver: string, opts: EmailLinkOptions): string | null {
  if (inc.state !== 'awaiting_approval' || !inc.approval || !inc.runbook) return null;
  if (opts.now >= inc.approval.expiresAt) return null;
  const token = signEmailLinkToken(opts.secret, { inc: inc.id, rh: inc.approval.runbookHash, ap: approver, exp: inc.approval.expiresAt, ...(opts.jti ? { jti: opts.jti(approver) } : {}) });
  return emailLinkUrl(opts.publicUrl, inc.id, token);
}

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/** Untrusted text never starts a line of its own in the email (no fake "Approve: https://…" line). */
const oneLine = plainLine;

/** The plain-text email body: summary, suspect, the runbook's actions, the deadline, and the link. Pure. */
export function emailText(a: Announcement, inc: Incident | null, link: string | null, note?: string): string {
  // Every part is capped, so the whole stays far below SNS's 256 KiB and the link at the end is never cut.
  const lines: string[] = [clip(oneLine(a.title), 200), '', clip(oneLine(a.text), 4000)];
  if (inc) {
    lines.push('', `Incident ${oneLine(inc.id)} · service ${oneLine(inc.service)}${inc.account ? ` · account ${oneLine(inc.account)} · region ${oneLine(inc.region ?? '')}` : ''} · state ${inc.state}`);
    const s = inc.correlation?.suspect;
    if (s) {
      lines.push(`Suspect deployment: ${oneLine(s.deployment.pipeline)} execution ${oneLine(s.deployment.id)}${s.deployment.revisionSummary ? ` ("${clip(oneLine(s.deployment.revisionSummary), 200)}")` : ''}, triggered by ${oneLine(s.deployment.triggeredBy ?? 'unknown')}`);
      for (const r of s.reasons.slice(0, 5)) lines.push(`  - ${clip(oneLine(r), 300)}`);
    }
    const an = analysisView(inc);
    if (an) {
      lines.push('', `Agent's hypothesis (confidence ${an.confidencePct} %): ${clip(oneLine(an.hypothesis), 600)}`);
      for (const e of an.evidence) {
        lines.push(clip(`  - step ${e.step}: ${oneLine(e.label)}${e.verified ? '' : ' (unverified reference)'}: ${oneLine(e.observation)}`, 500));
        if (e.link) lines.push(`    ${e.link}`);
      }
      if (an.moreEvidence) lines.push(`  …and ${an.moreEvidence} more on the incident page`);
      if (an.verification) lines.push(`Recovery check: ${clip(oneLine(an.verification), 300)}`);
      if (an.gaps.length) lines.push('Could not check:', ...an.gaps.map((g) => `  - ${clip(oneLine(g), 300)}`));
    }
    if (inc.runbook) {
      lines.push('', `Runbook: ${oneLine(inc.runbook.title)} (risk ${inc.runbook.risk}, ${inc.runbook.hash})`);
      inc.runbook.steps.forEach((st, n) => {
        const params = Object.entries(st.params).map(([k, v]) => `${k}=${oneLine(String(v))}`).join(', ');
        lines.push(clip(`  ${n + 1}. ${oneLine(st.action)} ${params}`, 1000));
      });
      const previews = inc.state === 'awaiting_approval' ? (inc.approval?.previews ?? []) : [];
      if (previews.length > 0) lines.push('', 'Preview (read from the cloud when proposed):');
      for (const p of previews.slice(0, 20)) lines.push(clip(`  ${p.index + 1}. ${oneLine(previewLine(p))}`, 1000));
    }
    if (inc.approval && inc.state === 'awaiting_approval') {
      lines.push('', `Approvals needed: ${inc.approval.requiredApprovals}. Expires ${new Date(inc.approval.expiresAt).toISOString()}; if nobody decides, nothing runs.`);
    }
  }
  if (note) lines.push('', oneLine(note));
  if (link) {
    lines.push('', 'Review and decide (opening this link decides nothing; you confirm on the page):', link, '', 'This link is yours alone and works once. Do not forward it.');
  }
  lines.push('', `Incident page: ${oneLine(a.url)}`);
  return lines.join('\n');
}

/**
 * The emails for one announcement: one per approver with an email address who may decide this
 * incident (all approvers with an email when there is no runbook). Approvers who may not approve
 * (self-approval forbidden) get the news without a link.
 */
export function emailMessagesFor(a: Announcement, inc: Incident | null, policy: CompiledPolicy, opts: EmailLinkOptions): EmailMessage[] {
  const approvers = policy.doc.approvers;
  let names = Object.keys(approvers);
  if (inc?.runbook && inc.approval) {
    const rules = approvalRules(policy, inc.runbook.risk, inc.approval.escalated);
    names = names.filter((n) => rules.eligible.has(n));
  }
  const out: EmailMessage[] = [];
  for (const name of names.sort()) {
    const email = approvers[name]?.email;
    if (!email) continue;
    const excluded = !!inc?.approval && policy.doc.approval.selfApproval === 'forbidden' && inc.approval.excludedApprovers.includes(name);
    const link = inc && ASKS.has(a.kind) && !excluded ? emailLinkFor(inc, name, opts) : null;
    const note = excluded && ASKS.has(a.kind) ? 'You triggered the suspect deployment, so your approval does not count for this incident; no decision link is included.' : undefined;
    out.push({
      approver: name,
      email,
      subject: snsSubject(a.title),
      text: emailText(a, inc, link, note),
      link,
      pageUrl: a.url,
      attributes: { kind: a.kind, incidentId: a.incidentId, state: a.state, approver: name, source: 'cloudops-watcher' },
    });
  }
  return out;
}

export type EmailPublish = (m: EmailMessage, signal: AbortSignal) => Promise<void>;

/** Publishes one email to a standard SNS topic; each approver's subscription filters on `approver`. */
export function snsEmailPublisher(client: SNSClient, topicArn: string): EmailPublish {
  return async (m, signal) => {
    const attrs: Record<string, MessageAttributeValue> = {};
    for (const [k, v] of Object.entries(m.attributes)) if (v !== '') attrs[k] = { DataType: 'String', StringValue: v.slice(0, 256) };
    const Message = fitMessage(m.text, m.pageUrl, MAX_MESSAGE_BYTES - 4096);
    await awsCall('sns.Publish', signal, () => client.send(new PublishCommand({ TopicArn: topicArn, Subject: m.subject, Message, MessageAttributes: attrs }), { abortSignal: signal }));
  };
}

export interface EmailNotifierOptions {
  readonly policy: CompiledPolicy;
  readonly secret: string | Buffer;
  /** Read at send time: the daemon learns its address after binding the port. */
  readonly publicUrl: () => string;
  readonly publish: EmailPublish;
  /** Given here or later with `attach` (the daemon builds notifiers before the store exists). */
  readonly store?: Store;
  readonly clock?: Clock;
}

/** Notifier that sends each approver their own email with their own signed link. */
export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  private store: Store | null;
  private clock: Clock | null;

  constructor(private readonly opts: EmailNotifierOptions) {
    checkLinkSecret(opts.secret);
    this.store = opts.store ?? null;
    this.clock = opts.clock ?? null;
  }

  /** Connects the store and clock once they exist. */
  attach(store: Store, clock: Clock): void {
    this.store = store;
    this.clock = clock;
  }

  async announce(a: Announcement, signal: AbortSignal): Promise<void> {
    if (!this.store || !this.clock) throw new Error('the email notifier is not attached to a store and clock yet');
    const inc = await this.store.getIncident(a.incidentId);
    const msgs = emailMessagesFor(a, inc, this.opts.policy, { secret: this.opts.secret, publicUrl: this.opts.publicUrl(), now: this.clock.now() });
    const failures: string[] = [];
    for (const m of msgs) {
      try {
        await this.opts.publish(m, signal);
      } catch (err) {
        failures.push(`${m.approver}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (failures.length) throw new Error(`email to ${failures.length} of ${msgs.length} approvers failed: ${failures.join('; ')}`);
  }
}
