import { evaluateQuorum } from '../approval/quorum.js';
import { allCleared } from '../incident/grouping.js';
import type { Decision, Incident } from '../incident/incident.js';
import { approvalRules } from '../policy/compile.js';
import { announce } from './announce.js';
import { chartRefreshDue, refreshChart } from './chart-refresh.js';
import type { CycleContext, PipelineDeps } from './context.js';
import { findNewEvidence, tryRedraft } from './redraft.js';
import { moveIncident, saveIncident } from './transitions.js';
import { updateValue } from '../store/update-value.js';
import { describeMute } from '../mute/mutes.js';
import { muteSources } from '../mute/silences.js';
import { incidentMutes, muteAuditData } from './record-mutes.js';

export type DecideOutcome = 'approved' | 'rejected' | 'expired' | 'withdrawn' | 'redrafting' | 'waiting';

/**
 * Decides what happens to an incident awaiting approval, in this order: a counted reject ends it (or,
 * with a reason and a re-draft left, supersedes it for a new version); a met quorum approves it; past
 * the deadline it expires (nothing runs); cleared signals withdraw it; new evidence (a new deployment,
 * a related service failing) supersedes it when a re-draft is left; otherwise reminders and escalation
 * fall due. Silence is never consent.
 */
export async function decideOne(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<DecideOutcome> {
  const { store, policy } = deps;
  const req = inc.approval;
  const now = ctx.now;
  if (inc.state !== 'awaiting_approval' || !req || !inc.runbook) return 'waiting';
  const decisions = await store.listDecisions(inc.id);
  const q = evaluateQuorum(req, decisions, approvalRules(policy, inc.runbook.risk, req.escalated));
  if (q.rejectedBy) {
    const r = q.rejectedBy;
    if (r.reason && (await tryRedraft(deps, ctx, inc, { kind: 'rejected', by: r.approver, reason: r.reason }))) return 'redrafting';
    const next = await moveIncident(store, inc, 'rejected', now, r.approver, `rejected by ${r.approver}${r.reason ? `: ${r.reason}` : ''} — not executed; next: re-propose, assign or close (cloudops repropose|assign|close ${inc.id})`);
    await announce(deps, ctx, next, 'final', 'rejected — not executed');
    return 'rejected';
  }
  if (q.met) {
    const next = await moveIncident(store, inc, 'approved', now, 'watcher', `approved by ${q.approvedBy.join(', ')}`, undefined, { approvedBy: q.approvedBy, runbookHash: req.runbookHash });
    await announce(deps, ctx, next, 'decision', `approved by ${q.approvedBy.join(', ')}`);
    return 'approved';
  }
  if (now >= req.expiresAt) {
    const next = await moveIncident(store, inc, 'expired', now, 'watcher', `expired — not executed (${q.approvedBy.length} of ${q.needed} approvals before the deadline); next: re-propose, assign or close (cloudops repropose|assign|close ${inc.id})`);
    await announce(deps, ctx, next, 'final', 'expired — not executed');
    return 'expired';
  }
  if (allCleared(inc)) {
    const next = await moveIncident(store, inc, 'withdrawn', now, 'watcher', 'the anomaly cleared by itself before approval — not executed');
    await announce(deps, ctx, next, 'final', 'withdrawn: the anomaly cleared by itself');
    return 'withdrawn';
  }
  const news = await findNewEvidence(deps, ctx, inc);
  if (news && (await tryRedraft(deps, ctx, inc, news))) return 'redrafting';
  await announceNewDecisions(deps, ctx, inc, decisions, q.approvedBy.length, q.needed);
  const due = policy.reminderMs.filter((r) => now >= req.requestedAt + r).length;
  let current = inc;
  // A silence (or maintenance window) added after the proposal stops the reminders and the escalation
  // while it lasts — recorded once per mute; decisions still count, and the request still expires.
  const muted = await mutedAfterProposal(deps, ctx, current);
  current = muted.incident;
  if (!muted.muted && due > req.remindersSent) {
    current = await saveIncident(store, current, now, 'watcher', 'approval.reminder', (n) => {
      if (n.approval) n.approval.remindersSent = due;
    });
    await announce(deps, ctx, current, 'reminder', `reminder: approval needed, ${q.approvedBy.length} of ${q.needed} so far, ${Math.ceil((req.expiresAt - now) / 60_000)} min left`);
  }
  if (!muted.muted && policy.escalation && !req.escalated && now >= req.requestedAt + policy.escalation.afterMs) {
    const to = [...policy.escalation.to];
    current = await saveIncident(store, current, now, 'watcher', 'approval.escalated', (n) => {
      if (n.approval) n.approval.escalated = true;
    }, { to });
    await announce(deps, ctx, current, 'reminder', `escalated to ${to.join(', ')}: approval needed, ${Math.ceil((req.expiresAt - now) / 60_000)} min left`);
  }
  // The approver decides on the metric now, not on the snapshot taken at drafting: the chart is read
  // again every few minutes while the request waits (bounded points, as verification does).
  if (chartRefreshDue(deps, current, now)) {
    const chart = await refreshChart(deps, ctx, current, 'decide');
    if (chart && chart !== current.chart) {
      const points = Object.fromEntries((chart.series ?? []).map((s) => [s.metricId, s.points.length]));
      await saveIncident(store, current, now, 'watcher', 'chart.refreshed', (n) => {
        n.chart = chart;
      }, { points });
    }
  }
  return 'waiting';
}

/**
 * Whether every active signal of an incident awaiting approval is muted now; a mute it had not recorded
 * is added to `mutes` (the list, the page and `show` name it) with the audit `approval.reminders_muted`.
 */
async function mutedAfterProposal(deps: PipelineDeps, ctx: CycleContext, inc: Incident): Promise<{ muted: boolean; incident: Incident }> {
  const { found, fresh } = incidentMutes(await muteSources(deps.store, deps.policy), inc, ctx.now);
  if (found.length === 0) return { muted: false, incident: inc };
  if (fresh.length === 0) return { muted: true, incident: inc };
  const next = await saveIncident(deps.store, inc, ctx.now, 'watcher', 'approval.reminders_muted', (n) => {
    n.mutes = [...n.mutes, ...fresh];
  }, { mutes: muteAuditData(fresh) });
  deps.logger.info({ incidentId: inc.id, stage: 'decide', muted: fresh.map(describeMute) }, 'reminders stopped: the incident is muted');
  return { muted: true, incident: next };
}

/** How many of an incident's decisions were announced already (so each is announced once, whatever channel it came by). */
export const announcedDecisionsKey = (incidentId: string): string => `decide.announced.${incidentId}`;

/**
 * Announces decisions recorded since the last announcement (a Slack message shows each one as it
 * arrives, also those given on the web page or the CLI). The count is stored after the announcement:
 * after a crash in between, a decision is announced twice rather than never.
 */
async function announceNewDecisions(deps: PipelineDeps, ctx: CycleContext, inc: Incident, decisions: readonly Decision[], approvals: number, needed: number): Promise<void> {
  if (decisions.length === 0) return;
  const key = announcedDecisionsKey(inc.id);
  const done = (await deps.store.getValue<number>(key)) ?? 0;
  if (decisions.length <= done) return;
  const fresh = [...decisions].sort((a, b) => a.at - b.at).slice(done);
  const who = fresh.map((d) => `${d.approver} ${d.verdict === 'approve' ? 'approved' : 'rejected'}`).join(', ');
  await announce(deps, ctx, inc, 'decision', `${who} (${approvals} of ${needed} approvals)`);
  // Compare-and-set, never backwards: a count another writer raised meanwhile is kept.
  await updateValue<number>(deps.store, key, (n) => Math.max(n ?? 0, decisions.length));
}
