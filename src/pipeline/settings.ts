import { millis, parseDuration, type Millis } from '../core/time.js';
import type { CompiledPolicy } from '../policy/compile.js';

/** The pipeline's own knobs (`pipeline:` in the policy), compiled once: durations in ms, nothing optional. */
export interface PipelineSettings {
  /** Drafting attempts before the incident goes to a person; the last one uses the template planner. */
  readonly draftAttempts: number;
  /** New versions drafted per incident after a reject with a reason or new evidence; 0 = none. */
  readonly maxRedrafts: number;
  /** Deadline of one drafting attempt, on the pipeline's clock. */
  readonly draftTimeoutMs: Millis;
  /** Deadline of one stage, on the pipeline's clock. */
  readonly stageTimeoutMs: Millis;
  /** Deadline of one cycle, on the pipeline's clock (default: the poll interval). */
  readonly cycleTimeoutMs: Millis;
  readonly retries: number;
  /** First retry wait on the wall clock (retries wait real time whatever the pipeline's clock). */
  readonly retryBackoffMs: Millis;
  readonly readyAfterIntervals: number;
  /** A decision not recorded within this much wall time is refused (the caller got an error). */
  readonly decisionTimeoutMs: Millis;
  /** Wall time in-flight work may take to finish after SIGTERM. */
  readonly shutdownGraceMs: Millis;
  /** The leader lease's time to live, real (wall) time whatever the pipeline's clock. */
  readonly leaseTtlMs: Millis;
}

/** Compiles `policy.doc.pipeline`. A policy object built without the section (older tests) gets the defaults. */
export function pipelineSettings(policy: CompiledPolicy): PipelineSettings {
  const p = policy.doc.pipeline ?? {};
  const d = (text: string | undefined, fallback: string): Millis => parseDuration(text ?? fallback);
  return {
    draftAttempts: p.draftAttempts ?? 3,
    maxRedrafts: p.maxRedrafts ?? defaultMaxRedrafts(policy),
    draftTimeoutMs: d(p.draftTimeout, '2m'),
    stageTimeoutMs: d(p.stageTimeout, '30s'),
    cycleTimeoutMs: p.cycleTimeout !== undefined ? parseDuration(p.cycleTimeout) : millis(policy.pollEveryMs),
    retries: p.retries ?? 2,
    retryBackoffMs: d(p.retryBackoff, '200ms'),
    readyAfterIntervals: p.readyAfterIntervals ?? 3,
    decisionTimeoutMs: d(p.decisionTimeout, '10s'),
    shutdownGraceMs: d(p.shutdownGrace, '25s'),
    leaseTtlMs: d(p.leaseTtl, '30s'),
  };
}

/**
 * Re-drafts per incident when the policy does not say: with the agent drafting, a reject with a reason
 * gets a new version (bounded); with templates only the same template would come back, so a reject ends
 * the request and a person takes it from there.
 */
export function defaultMaxRedrafts(policy: CompiledPolicy): number {
  return policy.doc.agent?.enabled ? 2 : 0;
}
