/**
 * Echo alarms. The spike channels score a point by short averages of the last points (novelty-core.ts), so after a
 * one-point spike the next, ordinary points still carry it: the step channel holds both of its jumps, the half-hour
 * mean still holds its height. A spike that did not alarm on its own (below the threshold, or rejected by the incident
 * gate as routine), or that alarmed and was resolved as a blip (alarm-confirm.ts), could then alarm again through the
 * point after it. That point is within noise of the expected value, so the next ordinary point "still deviates" by 30 %
 * of its tiny excursion, and grouping opened an incident of two ordinary points (bench:noise: flat series with harmless
 * spikes; NAB's art_load_balancer_spikes).
 *
 * The rule: within the spike channels' span after a *lone* off-level point (|z| at least the Huber clip, the point
 * before it not off-level on the same side) that did not stand as an alarm, a point within the clip of the expected value
 * (|z| < clip, the notion the minDuration > 1 path uses for "off the level") does not alarm. Its evidence is the earlier point, which was
 * already judged. A second off-level point on the same side makes a run (two points: the default minimum duration), not
 * a lone spike, and ends the guard. Points off the level themselves still alarm, and so does a change that deviates
 * little point by point (a variance drop, a flat stretch) when no lone spike precedes it. Pure.
 */
import type { NoveltyParams } from './novelty-core.js';

export interface EchoState {
  /** core.n after the last lone off-level point that did not stand as an alarm (absent: none, or a run ended it). */
  ee?: number;
  /** Off-level side (−1, 0, 1) of the last point and of the one before it. */
  es?: [number, number];
  core: { n: number };
}

const sideOf = (z: number, p: NoveltyParams): number => (Math.abs(z) >= p.clip ? Math.sign(z) : 0);

/** Whether a point with residual `z` is an echo: within the clip, within the span after a judged lone spike. */
export function isEcho(st: EchoState, z: number, p: NoveltyParams): boolean {
  if (st.ee === undefined) return false;
  return st.core.n - st.ee <= (p.spikeShort ?? p.short) && Math.abs(z) < p.clip;
}

/** After the point with residual `z` was scored (core.n counts it) and its verdict is known. */
export function pointJudged(st: EchoState, z: number, alarmed: boolean, p: NoveltyParams): void {
  const s = sideOf(z, p);
  const prev = st.es?.[0] ?? 0;
  if (s !== 0 && s === prev) delete st.ee;
  else if (s !== 0 && !alarmed) st.ee = st.core.n;
  st.es = [s, prev];
}

/** A pending alarm on the last point was resolved as a blip: it did not stand, so it is judged like an unalarmed one. */
export function blipJudged(st: EchoState): void {
  const [last, before] = st.es ?? [0, 0];
  if (last !== 0 && last !== before) st.ee = st.core.n;
}
