import { pino } from 'pino';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { iso } from '../core/time.js';
import type { Decision, Incident } from '../incident/incident.js';
import { TERMINAL_STATES, type IncidentState } from '../incident/lifecycle.js';
import type { Store } from '../store/store.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../daemon.js';

/**
 * `cloudops run --json`: stdout carries one JSON object per line and nothing else — the run's start,
 * every incident opened, proposed, decided, moved and ended, and a summary when the daemon stops.
 * Logs and the console channel's text go to stderr.
 */
export type RunEvent =
  | { readonly type: 'run.started'; readonly url: string; readonly policy: string; readonly incidents: number }
  | { readonly type: 'incident.opened'; readonly incidentId: string; readonly at: string; readonly service: string; readonly state: IncidentState; readonly onsetAt: string; readonly metrics: readonly string[]; readonly url: string }
  | { readonly type: 'incident.proposed'; readonly incidentId: string; readonly at: string; readonly runbookHash: string; readonly title: string; readonly risk: string; readonly requiredApprovals: number; readonly expiresAt: string; readonly url: string }
  | { readonly type: 'incident.decided'; readonly incidentId: string; readonly at: string; readonly approver: string; readonly verdict: Decision['verdict']; readonly channel: Decision['channel']; readonly runbookHash: string; readonly reason?: string }
  | { readonly type: 'incident.state'; readonly incidentId: string; readonly at: string; readonly from: IncidentState | null; readonly to: IncidentState; readonly reason: string }
  | { readonly type: 'incident.resolved' | 'incident.ended'; readonly incidentId: string; readonly at: string; readonly state: IncidentState; readonly reason: string; readonly actionsRun: number }
  | { readonly type: 'run.error'; readonly error: string }
  | { readonly type: 'run.summary'; readonly incidents: number; readonly byState: Readonly<Record<string, number>>; readonly events: Readonly<Record<string, number>> };

/** What the follower last saw of one incident. */
export interface SeenIncident {
  readonly state: IncidentState;
  readonly version: number;
  /** The approval request last reported (runbook hash @ requested at), or null. */
  readonly request: string | null;
  /** Decisions already reported, by approver, runbook hash and time. */
  readonly decisions: ReadonlySet<string>;
}

const requestKey = (i: Incident): string | null => (i.approval && i.runbook ? `${i.runbook.hash}@${i.approval.requestedAt}` : null);
const decisionKey = (d: Decision): string => `${d.approver}|${d.runbookHash}|${d.at}`;
/** Steps that reached the cloud (shadow runs and previews did not). */
const actionsRun = (i: Incident): number => i.steps.filter((s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'started').length;

/**
 * The events between what was `seen` and the incidents now, in the order they happened per incident:
 * opened, proposed, decisions, then the state it reached. A state passed through between two looks
 * (executing on the way to resolved) is not invented. `decisions` holds the decisions of the incidents
 * whose version changed. Pure: returns the events and the new view.
 */
export function incidentEvents(
  seen: ReadonlyMap<string, SeenIncident>,
  incidents: readonly Incident[],
  decisions: ReadonlyMap<string, readonly Decision[]>,
  baseUrl: string,
): { events: RunEvent[]; seen: Map<string, SeenIncident> } {
  const next = new Map(seen);
  const events: RunEvent[] = [];
  // Oldest first, so a reader sees incidents in the order they opened.
  for (const i of [...incidents].sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id))) {
    const prev = seen.get(i.id);
    if (prev && prev.version === i.version) continue;
    const at = iso(i.updatedAt);
    const url = `${baseUrl}/incidents/${encodeURIComponent(i.id)}`;
    if (!prev) events.push({ type: 'incident.opened', incidentId: i.id, at: iso(i.openedAt), service: i.service, state: i.state, onsetAt: iso(i.onsetAt), metrics: i.signals.map((s) => s.metricId), url });
    const request = requestKey(i);
    if (request !== null && request !== prev?.request && i.runbook && i.approval) {
      events.push({ type: 'incident.proposed', incidentId: i.id, at: iso(i.approval.requestedAt), runbookHash: i.runbook.hash, title: i.runbook.title, risk: i.runbook.risk, requiredApprovals: i.approval.requiredApprovals, expiresAt: iso(i.approval.expiresAt), url });
    }
    const reported = new Set(prev?.decisions ?? []);
    for (const d of [...(decisions.get(i.id) ?? [])].sort((a, b) => a.at - b.at)) {
      if (reported.has(decisionKey(d))) continue;
      reported.add(decisionKey(d));
      events.push({ type: 'incident.decided', incidentId: i.id, at: iso(d.at), approver: d.approver, verdict: d.verdict, channel: d.channel, runbookHash: d.runbookHash, ...(d.reason !== undefined ? { reason: d.reason } : {}) });
    }
    const moved = prev ? prev.state !== i.state : i.state !== 'detected';
    if (moved) {
      if (TERMINAL_STATES.has(i.state)) events.push({ type: i.state === 'resolved' ? 'incident.resolved' : 'incident.ended', incidentId: i.id, at, state: i.state, reason: i.reason, actionsRun: actionsRun(i) });
      // Awaiting approval is reported as the proposal itself.
      else if (!(i.state === 'awaiting_approval' && request !== prev?.request)) events.push({ type: 'incident.state', incidentId: i.id, at, from: prev?.state ?? null, to: i.state, reason: i.reason });
    }
    next.set(i.id, { state: i.state, version: i.version, request, decisions: reported });
  }
  return { events, seen: next };
}

/** Every incident as it stands, with nothing reported: the view a run starts from (a kept store has history). */
export function baseline(incidents: readonly Incident[], decisions: ReadonlyMap<string, readonly Decision[]>): Map<string, SeenIncident> {
  return new Map(incidents.map((i) => [i.id, { state: i.state, version: i.version, request: requestKey(i), decisions: new Set((decisions.get(i.id) ?? []).map(decisionKey)) }]));
}

/** The last line: how many incidents ended in which state, and how many events of each kind were printed. */
export function runSummary(incidents: readonly Incident[], printed: readonly RunEvent[]): RunEvent {
  const count = (keys: readonly string[]): Record<string, number> => keys.reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {});
  return { type: 'run.summary', incidents: incidents.length, byState: count(incidents.map((i) => i.state)), events: count(printed.map((e) => e.type)) };
}

/** Reads the store once and returns what changed since `seen` (decisions read only for changed incidents). */
async function look(store: Store, seen: ReadonlyMap<string, SeenIncident>, baseUrl: string): Promise<{ events: RunEvent[]; seen: Map<string, SeenIncident>; incidents: Incident[] }> {
  const incidents = await store.listIncidents({ limit: 10_000 });
  const changed = incidents.filter((i) => seen.get(i.id)?.version !== i.version && i.approval !== null);
  const decisions = new Map(await Promise.all(changed.map(async (i) => [i.id, await store.listDecisions(i.id)] as const)));
  return { ...incidentEvents(seen, incidents, decisions, baseUrl), incidents };
}

/** How often the follower looks at the store, in wall ms. */
export const FOLLOW_EVERY_MS = 500;

/**
 * Runs the daemon with JSON lines on stdout (see RunEvent) until SIGTERM or SIGINT; then drains the
 * daemon, prints what its last cycle changed and the summary, and exits 0.
 */
export async function runJson(opts: Omit<DaemonOptions, 'logger' | 'consoleOut'>, write: (line: string) => void = (l) => void process.stdout.write(l)): Promise<void> {
  const printed: RunEvent[] = [];
  const emit = (e: RunEvent): void => {
    printed.push(e);
    write(`${JSON.stringify(e)}\n`);
  };
  const logger = createLogger({ level: opts.logLevel ?? 'info', destination: pino.destination(2) });
  const daemon: Daemon = await startDaemon({ ...opts, logger, consoleOut: (t) => void process.stderr.write(t) });
  const all = await daemon.store.listIncidents({ limit: 10_000 });
  let seen = baseline(all, new Map(await Promise.all(all.map(async (i) => [i.id, await daemon.store.listDecisions(i.id)] as const))));
  emit({ type: 'run.started', url: daemon.url, policy: opts.policyFile, incidents: all.length });
  let latest: Incident[] = all;
  const lookOnce = async (): Promise<void> => {
    try {
      const r = await look(daemon.store, seen, daemon.url);
      seen = r.seen;
      latest = r.incidents;
      for (const e of r.events) emit(e);
    } catch (err) {
      emit({ type: 'run.error', error: errorMessage(err) });
    }
  };
  const stop = new AbortController();
  const follow = (async (): Promise<void> => {
    while (!stop.signal.aborted) {
      await lookOnce();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, FOLLOW_EVERY_MS);
        stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  })();
  const onSignal = (sig: string): void => {
    stop.abort();
    follow
      .then(() => daemon.stop())
      .then(lookOnce)
      .then(() => {
        emit(runSummary(latest, printed));
        // Exit once stdout has taken every line (a pipe is written asynchronously).
        process.stdout.write('', () => process.exit(0));
      })
      .catch((err: unknown) => {
        process.stderr.write(`shutdown after ${sig} failed: ${errorMessage(err)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}
