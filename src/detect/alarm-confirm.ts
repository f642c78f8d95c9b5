/**
 * An alarm mutes and is remembered only once it is confirmed. The incident hold (incident-hold.ts) and the re-alarm
 * hysteresis (incident-hysteresis.ts) both assume an alarm opened or extended an incident. But a point that alarms
 * alone, with the next point back near the level, opens nothing: grouping needs a second point, anomalous or still
 * deviating (incident/grouping.ts, minPoints). Such a blip must not start either mechanism. A harmless one-point spike
 * that scored 1 held the metric for twelve hours, since nothing beats a hold of 1. Its height was also remembered for a
 * week as "already paged". The real regression an hour later then opened nothing.
 *
 * So an alarm is tentative. The hold and hysteresis it started are kept only if the next point with a value is still
 * deviating by grouping's rule: more than STILL_DEVIATING_SHARE of the alarm's excursion from its expected value
 * remains. Otherwise both go back to what they were before the alarm. One pending alarm at a time: an alarm on the
 * next point resolves the previous one first. One point confirms, as grouping's default of two points does; a metric
 * with a policy minDuration above 2 needs more points to open, so an alarm confirmed by one point that grouping still
 * drops keeps its hold (the detector runs with minDuration 1 and is not told the policy's).
 *
 * State: absent when nothing is pending, else ten numbers. Those are the hold (score, time), the hysteresis
 * (direction, hour, four bounds) as they were before the alarm, and the value the next point must exceed, with its side.
 */
import type { HysteresisState } from './incident-hysteresis.js';
import type { IncidentHoldState } from './incident-hold.js';

/** A value still deviates while more than this share of the peak excursion from the expected value remains. */
export const STILL_DEVIATING_SHARE = 0.3;

export type PendingAlarm = [p: number, t: number, d: number, u: number, r0: number, r1: number, r2: number, r3: number, cut: number, side: number];

/** Before an alarm at `value` against `expected` updates the hold and the hysteresis: what to restore if it is a blip. */
export function tentative(ih: IncidentHoldState, hy: HysteresisState, value: number, expected: number): PendingAlarm {
  const excursion = value - expected;
  return [ih.p, ih.t, hy.d, hy.u, hy.r[0], hy.r[1], hy.r[2], hy.r[3], expected + STILL_DEVIATING_SHARE * excursion, Number.isFinite(excursion) ? Math.sign(excursion) : 0];
}

/** Whether `value`, the next point after the alarm, confirms it (grouping's stillDeviating). */
export const confirms = (a: PendingAlarm, value: number): boolean => (a[9] > 0 ? value > a[8] : a[9] < 0 ? value < a[8] : false);

/** Resolves a pending alarm with the next value: a blip gives back the hold and hysteresis from before it. Returns whether the alarm was confirmed. */
export function resolve(a: PendingAlarm, value: number, ih: IncidentHoldState, hy: HysteresisState): boolean {
  if (confirms(a, value)) return true;
  ih.p = a[0];
  ih.t = a[1];
  hy.d = a[2];
  hy.u = a[3];
  hy.r = [a[4], a[5], a[6], a[7]];
  return false;
}
