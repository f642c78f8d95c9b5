import type { Button, KnownBlock, SectionBlock } from '@slack/web-api';
import { plainLine, slackText, withoutControls } from '../../core/sanitize.js';
import { previewLine } from '../../execute/step-preview.js';
import type { Decision, Incident } from '../../incident/incident.js';
import { analysisView } from '../agent-analysis-lines.js';

/**
 * Block Kit rendering of an incident for Slack. Pure: the same incident, decisions and `now` always
 * give the same message. Untrusted text (commit messages, log lines) is escaped so it cannot mention
 * people, link elsewhere or break out of its code span.
 */

export const APPROVE_ACTION = 'cloudops_approve';
export const REJECT_ACTION = 'cloudops_reject';
export const ACTIONS_BLOCK = 'cloudops_decision';

/** A Block Kit block, typed by the SDK so a malformed block fails to compile. */
export type Block = KnownBlock;

export interface SlackView {
  readonly incident: Incident;
  readonly decisions: readonly Decision[];
  /** Approvals that count so far and how many are needed (null when there is no request). */
  readonly quorum: { readonly approvedBy: readonly string[]; readonly needed: number } | null;
  /** Who may approve right now (after escalation, the wider group). */
  readonly eligible: readonly string[];
  readonly url: string;
  readonly now: number;
}

export interface SlackMessage {
  /** The notification fallback text (required by chat.postMessage for notifications). */
  readonly text: string;
  readonly blocks: Block[];
}

const SECTION_MAX = 2900;

/** Escapes text for mrkdwn: &, <, > (Slack's control characters) and backticks inside code spans. */
export function mrkdwnEscape(s: string): string {
  return withoutControls(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
const code = (s: string): string => `\`${mrkdwnEscape(s).replace(/`/g, "'").replace(/\n/g, ' ')}\``;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const fmt = (t: number): string => new Date(t).toISOString().replace('T', ' ').slice(0, 16) + 'Z';

/** The button value: incident id and runbook hash, parsed back by `parseButtonValue`. */
export const buttonValue = (incidentId: string, runbookHash: string): string => `${incidentId}|${runbookHash}`;

export function parseButtonValue(value: unknown): { incidentId: string; runbookHash: string } | null {
  if (typeof value !== 'string' || value.length > 300) return null;
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,150})\|(sha256:[0-9a-f]{64})$/.exec(value);
  return m?.[1] && m[2] ? { incidentId: m[1], runbookHash: m[2] } : null;
}

/** Words for where an incident ended up, as the message shows them. */
export function finalLabel(state: string): string {
  const labels: Record<string, string> = {
    awaiting_approval: ':hourglass: awaiting approval',
    approved: ':white_check_mark: approved — executing',
    executing: ':gear: executing',
    verifying: ':gear: executed — verifying recovery',
    resolved: ':white_check_mark: executed and verified — resolved',
    not_recovered: ':x: executed — not recovered',
    failed: ':x: failed',
    needs_human: ':sos: needs a person — automation stopped',
    rejected: ':no_entry: rejected — not executed',
    expired: ':hourglass_flowing_sand: expired — not executed',
    superseded: ':leftwards_arrow_with_hook: superseded by a newer runbook — not executed',
    withdrawn: ':leaves: withdrawn — the anomaly cleared by itself, not executed',
  };
  return labels[state] ?? state;
}

export function renderSlackMessage(v: SlackView): SlackMessage {
  const i = v.incident;
  const rb = i.runbook;
  const a = i.approval;
  const awaiting = i.state === 'awaiting_approval' && rb !== null && a !== null;
  const title = clip(plainLine(`[${i.service}] ${awaiting ? 'Approval needed' : finalLabel(i.state).replace(/^:[a-z_]+: /, '')}: ${rb?.title ?? i.reason}`), 150);
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];

  blocks.push(section(`*Service* ${mrkdwnEscape(i.service)}${i.account ? ` · *Account* ${mrkdwnEscape(i.account)} · *Region* ${mrkdwnEscape(i.region ?? '')}` : ''} · *Incident* <${v.url}|${mrkdwnEscape(i.id)}> · *Onset* ${fmt(i.onsetAt)}\n*State* ${finalLabel(i.state)}\n${mrkdwnEscape(clip(i.reason, 500))}`));

  const c = i.correlation;
  if (c) {
    const s = c.suspect;
    const text = s
      ? `*Suspect deployment* ${mrkdwnEscape(s.deployment.pipeline)} ${code(s.deployment.id)} (score ${s.score})` +
        `${s.deployment.revisionSummary ? `\n> ${mrkdwnEscape(clip(s.deployment.revisionSummary.replace(/\s+/g, ' '), 300))}` : ''}` +
        `\nTriggered by ${mrkdwnEscape(s.deployment.triggeredBy ?? 'unknown')}` +
        s.reasons.slice(0, 5).map((r) => `\n• ${mrkdwnEscape(clip(r, 300))}`).join('')
      : `*Suspect deployment* none — ${mrkdwnEscape(clip(c.verdict, 500))}`;
    blocks.push(section(text));
  }

  const evidence = [
    ...i.signals.slice(0, 4).map((s) => `• ${mrkdwnEscape(s.metricName)} went ${s.direction} to ${round(s.peakValue)} (expected ${round(s.expected)})`),
    ...(i.evidence?.templates ?? []).slice(0, 3).map((t) => `• ${t.isNew ? '*new* log pattern' : 'log pattern'} ${code(clip(t.template, 160))}: ${t.baselineCount} → ${t.onsetCount}`),
  ];
  if (evidence.length) blocks.push(section(`*Key evidence*\n${evidence.join('\n')}`));

  const an = analysisView(i);
  if (an) {
    const ev = an.evidence.map((e) => `• step ${e.step}: ${e.link ? `<${e.link}|${mrkdwnEscape(e.label)}>` : mrkdwnEscape(e.label)}${e.verified ? '' : ' _(unverified reference)_'} — ${mrkdwnEscape(clip(e.observation, 200))}`);
    const lines = [
      `*Agent's hypothesis* (confidence ${an.confidencePct} %): ${mrkdwnEscape(clip(an.hypothesis, 500))}`,
      ...(ev.length ? ['*Evidence*', ...ev] : []),
      ...(an.moreEvidence ? [`…and ${an.moreEvidence} more on the incident page`] : []),
      ...(an.verification ? [`*Recovery check* ${mrkdwnEscape(clip(an.verification, 300))}`] : []),
      ...(an.gaps.length ? ['*Could not check*', ...an.gaps.map((g) => `• ${mrkdwnEscape(clip(g, 250))}`)] : []),
    ];
    blocks.push(section(lines.join('\n')));
  }

  if (rb) {
    const steps = rb.steps.map((s, n) => `${n + 1}. *${mrkdwnEscape(s.action)}* (${s.risk} risk) — ${mrkdwnEscape(clip(s.description, 200))}\n      ${code(clip(JSON.stringify(s.params), 300))}`);
    blocks.push(section(`*Runbook* ${mrkdwnEscape(rb.title)} · risk *${rb.risk}* · ${code(rb.hash.slice(0, 19))}\n${steps.join('\n')}`));
  }

  if (awaiting && a.previews && a.previews.length > 0) {
    const lines = a.previews.map((p) => `${p.index + 1}. ${mrkdwnEscape(clip(previewLine(p), 600))}`);
    blocks.push(section(`*Preview* (read when proposed)\n${lines.join('\n')}`));
  }

  if (a && v.quorum) {
    const q = v.quorum;
    const left = a.expiresAt - v.now;
    const lines = [
      `*Quorum* ${q.approvedBy.length} of ${q.needed} approval(s)${q.approvedBy.length ? ` (${q.approvedBy.map(mrkdwnEscape).join(', ')})` : ''}` +
        (awaiting ? ` · may approve: ${v.eligible.filter((e) => !a.excludedApprovers.includes(e)).map(mrkdwnEscape).join(', ') || 'nobody'}` : ''),
      awaiting
        ? `*Expires* ${fmt(a.expiresAt)} (${left > 0 ? `${Math.ceil(left / 60_000)} min left` : 'now'}) — if nobody decides, nothing runs`
        : `*Requested* ${fmt(a.requestedAt)} · *expired/closes* ${fmt(a.expiresAt)}`,
    ];
    if (a.excludedApprovers.length) lines.push(`May not approve (triggered the suspect deployment): ${a.excludedApprovers.map(mrkdwnEscape).join(', ')}`);
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_MAX) }] });
  }

  if (v.decisions.length) {
    const ds = v.decisions.slice(-10).map((d) => `${d.verdict === 'approve' ? ':white_check_mark:' : ':no_entry:'} ${mrkdwnEscape(d.approver)} ${d.verdict === 'approve' ? 'approved' : 'rejected'} via ${d.channel} at ${fmt(d.at)}${d.runbookHash !== rb?.hash ? ' (older runbook version: does not count)' : ''}${d.reason ? ` — ${mrkdwnEscape(clip(d.reason, 200))}` : ''}`);
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(ds.join('\n'), SECTION_MAX) }] });
  }

  const buttons: Button[] = [];
  if (awaiting) {
    const value = buttonValue(i.id, rb.hash);
    buttons.push(
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
        confirm: {
          title: { type: 'plain_text', text: 'Approve this runbook?' },
          text: { type: 'mrkdwn', text: clip(`Runs ${rb.steps.length} step(s) of ${mrkdwnEscape(rb.title)} once the quorum is met.`, 300) },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      { type: 'button', action_id: REJECT_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value },
    );
  }
  buttons.push({ type: 'button', action_id: 'cloudops_open', text: { type: 'plain_text', text: 'Open incident page' }, url: v.url });
  blocks.push({ type: 'actions', block_id: ACTIONS_BLOCK, elements: buttons });

  // The fallback `text` is mrkdwn too (notifications, updates): the title carries untrusted text.
  const text = clip(`${slackText(title)} — ${awaiting ? `approve or reject: ${v.url}` : v.url}`, 3000);
  return { text, blocks };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } };
}

const round = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '?');
