import { parseDuration } from '../../core/time.js';
import type { ScenarioDeployment } from './scenario.js';

/** A scenario offset ("5m", "-30m") in milliseconds. */
export const offsetMs = (s: string): number => (s.startsWith('-') ? -Number(parseDuration(s.slice(1))) : parseDuration(s));

/** One deploy stage of a scenario deployment, on absolute virtual time. */
export interface RolloutStage {
  readonly name: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Share of the traffic on the new code once this stage finished. */
  readonly share: number;
}

/**
 * The deploy stages of a scenario deployment (one stage ending at `at` when it lists none), in order.
 * A rollout's effects grow with the share of traffic already on the new code.
 */
export function rolloutStages(d: ScenarioDeployment, t0: number): RolloutStage[] {
  if (d.stages.length === 0) {
    const end = t0 + offsetMs(d.at ?? '0s');
    return [{ name: d.stage, startedAt: end - parseDuration(d.stageDuration), endedAt: end, share: 1 }];
  }
  return d.stages.map((s) => {
    const end = t0 + offsetMs(s.at);
    return { name: s.name, startedAt: end - parseDuration(s.duration), endedAt: end, share: s.share };
  });
}

/** The share of traffic on the new code at `t`: that of the last stage finished by then (0 before the first). */
export function liveShare(stages: readonly RolloutStage[], t: number): number {
  let share = 0;
  for (const s of stages) if (s.endedAt <= t) share = s.share;
  return share;
}

/** When the named stage (default: the first) finished. */
export function stageEnd(stages: readonly RolloutStage[], name?: string): number {
  const s = name === undefined ? stages[0] : stages.find((x) => x.name === name);
  return s?.endedAt ?? stages[0]?.endedAt ?? 0;
}
