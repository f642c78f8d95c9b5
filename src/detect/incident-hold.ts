/**
 * The incident hold (one incident, one alarm): after a point opens or extends an incident with score s, the same metric
 * alarms again within SUPPRESS_HOLD_MS only with a score above s + jump·(1 − s); a point that beats it resets the hold.
 *
 * Why a hold of its own beside the novelty core's suppression (novelty-core.ts): the core suppresses after every
 * reported score, including scores of points the incident gate then rejects (within the range of the last day, so
 * nobody is paged). A rejected point must not mute the real one that follows, so the hold that decides alarms starts
 * only at points that actually alarmed, and lasts only once the next point confirms the alarm (alarm-confirm.ts: a
 * one-point blip opens no incident, so it must not hold the metric). The core's suppression still shapes the reported
 * score (NAB scores points).
 * Two numbers of JSON.
 */

export interface IncidentHoldState {
  /** The score to beat while the hold lasts (0 when none). */
  p: number;
  /** Time (ms) of the last alarm; the hold lasts until t + holdMs. */
  t: number;
}

export const initIncidentHold = (): IncidentHoldState => ({ p: 0, t: 0 });

/** The score a point at time t must exceed to alarm (0 when no hold is running). */
export const holdBar = (st: IncidentHoldState, t: number, holdMs: number): number => (st.p > 0 && t - st.t < holdMs ? st.p : 0);

/** Records an alarm with score s at time t. */
export function holdAlarm(st: IncidentHoldState, t: number, s: number, jump: number): void {
  st.p = s + jump * (1 - s);
  st.t = t;
}
