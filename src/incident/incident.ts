import type { MonotonicStamp } from '../core/clock.js';
import type { Deployment } from '../cloud/ports.js';
import type { EpochMs } from '../core/time.js';
import type { DraftedRunbook } from '../runbook/runbook.js';
import type { PlanTrace } from '../runbook/planner.js';
import type { IncidentState } from './lifecycle.js';
import type { Assignment, PastRequest, RedraftRecord } from './revisions.js';
import type { StepPreview } from '../execute/step-preview.js';

/** One metric misbehaving: what the detector saw. */
export interface Signal {
  readonly metricId: string;
  readonly metricName: string;
  readonly direction: 'up' | 'down';
  readonly startedAt: EpochMs;
  lastAnomalousAt: EpochMs;
  /** Set when the metric has been healthy long enough (hysteresis) after the anomaly. */
  clearedAt: EpochMs | null;
  peakScore: number;
  /** Value and expected value at the most anomalous point. */
  peakValue: number;
  expected: number;
}

/** A deployment ranked by correlation, with plain-word reasons. */
export interface RankedDeployment {
  readonly deployment: Deployment;
  readonly score: number;
  readonly reasons: readonly string[];
}

export interface Suspect extends RankedDeployment {
  /** The execution to go back to (the last good one on the same pipeline), when known. */
  readonly previousExecutionId?: string;
}

export interface Correlation {
  readonly suspect: Suspect | null;
  /** When there is no suspect: why nothing explains it, in plain words. */
  readonly verdict: string;
  readonly candidates: readonly RankedDeployment[];
}

export interface LogTemplateEvidence {
  readonly template: string;
  readonly baselineCount: number;
  readonly onsetCount: number;
  readonly isNew: boolean;
  readonly samples: readonly string[];
  /** Lines per minute after the onset over lines per minute before (with half a line of smoothing). */
  readonly growth?: number;
}

export interface LogEvidence {
  readonly groups: readonly string[];
  readonly baseline: { readonly start: EpochMs; readonly end: EpochMs; readonly lines: number };
  readonly onset: { readonly start: EpochMs; readonly end: EpochMs; readonly lines: number };
  readonly templates: readonly LogTemplateEvidence[];
}

export interface ApprovalRequest {
  readonly runbookHash: string;
  readonly requestedAt: EpochMs;
  readonly expiresAt: EpochMs;
  /** Monotonic time when the request was opened, by the process that opened it (issue 10 item 12). */
  readonly openedMonotonic?: MonotonicStamp;
  readonly requiredApprovals: number;
  /** People whose approval does not count for this incident (e.g. who triggered the suspect deploy). */
  readonly excludedApprovers: readonly string[];
  /** Channels the request went to; the final state is announced on each. */
  readonly channels: readonly string[];
  remindersSent: number;
  escalated: boolean;
  /** Each step's preview, made when the request was opened (beside the runbook: its hash is unchanged). */
  readonly previews?: readonly StepPreview[];
}

/**
 * `would_have_run` (shadow mode) and `previewed` (dry run): recorded with the preview, never sent to the cloud.
 * `awaiting_person`: a manual step handed to a person; it becomes `succeeded` when an approver marks it done.
 */
export type StepStatus = 'started' | 'succeeded' | 'failed' | 'skipped_already_done' | 'handed_to_human' | 'would_have_run' | 'previewed' | 'awaiting_person';

export interface StepRecord {
  readonly index: number;
  readonly action: string;
  readonly idempotencyKey: string;
  status: StepStatus;
  readonly startedAt: EpochMs;
  endedAt: EpochMs | null;
  summary: string;
}

/** A mute (silence, maintenance window) that kept an incident quiet: what it muted, whose, why, until when. */
export interface MuteRecord {
  /** The mute's id: `sil-…`, `maintenance:NAME`. */
  readonly id: string;
  /** Who created it: a person for a silence, "policy" for a window. */
  readonly by: string;
  readonly kind: 'silence' | 'maintenance' | 'freeze';
  readonly reason: string;
  /** When the watcher first found it muting this incident. */
  readonly at: EpochMs;
  /** When the mute ends (or ended). */
  readonly until: EpochMs;
  /** The metric ids of the incident it muted. */
  readonly metrics: readonly string[];
}

/** One metric's points on the incident chart, oldest first. */
export interface ChartSeries {
  readonly metricId: string;
  readonly metricName: string;
  readonly unit?: string;
  /** The CloudWatch statistic and period of each point (Sum, p99 … per 60 s). */
  readonly stat?: string;
  readonly periodSec?: number;
  points: { t: EpochMs; v: number }[];
  /** The detector's expected range at the same times, when the detector reports one (CloudWatch's band, static bounds). */
  band?: { t: EpochMs; lo: number; hi: number }[];
  /** A static detector's bounds: anomalous above `above` or below `below`. */
  bounds?: { above?: number; below?: number };
}

/**
 * What the incident page charts. `metricId`/`metricName`/`points` are the main signal's metric (as drafted;
 * older records have only these); `series` holds every signal metric, refreshed while the incident is
 * verified and at its end (src/pipeline/chart-refresh.ts), bounded in size.
 */
export interface IncidentChart {
  metricId: string;
  metricName: string;
  points: { t: EpochMs; v: number }[];
  deployments: { id: string; at: EpochMs }[];
  series?: ChartSeries[];
  /** When the points were last read from the metric source. */
  refreshedAt?: EpochMs;
}

/** The durable record that travels through the pipeline. */
export interface Incident {
  readonly id: string;
  readonly service: string;
  /**
   * The account (its policy name) and region the incident happened in (issue 16 item 5). Absent on
   * incidents stored before accounts existed: read them with `incidentPlace`, as the policy's `account`.
   */
  readonly account?: string;
  readonly region?: string;
  state: IncidentState;
  /** Optimistic concurrency: bumped by every write; a write naming an old version fails. */
  version: number;
  readonly openedAt: EpochMs;
  updatedAt: EpochMs;
  onsetAt: EpochMs;
  signals: Signal[];
  correlation: Correlation | null;
  evidence: LogEvidence | null;
  runbook: DraftedRunbook | null;
  approval: ApprovalRequest | null;
  steps: StepRecord[];
  mutes: MuteRecord[];
  /** Why it is in its current state, in plain words. */
  reason: string;
  /** The main signal's metric around the onset, as approvers saw it; `series` and `refreshedAt` once refreshed. */
  chart: IncidentChart | null;
  /** When verification started and how many healthy polls it has seen. */
  verification: { startedAt: EpochMs; deadline: EpochMs; healthyPolls: number } | null;
  /** Drafting attempts (absent on incidents stored before attempts were counted). */
  drafting?: DraftingRecord;
  /** How the runbook was drafted: planner, model, prompts by hash, tokens, tools, fallback. */
  plan?: PlanTrace;
  /** The latest stage failures on this incident, newest last (a few are kept). */
  failures?: StageFailure[];
  /** Earlier approval requests (superseded, rejected, expired before a re-proposal), oldest first. */
  requests?: PastRequest[];
  /** Set while a new version is drafted after a reject with a reason or new evidence. */
  redraft?: RedraftRecord | null;
  /** Who handles it after a reject, an expiry or a hand-over. */
  assignee?: Assignment | null;
}

/** One person's decision on one runbook version. */
export interface Decision {
  readonly incidentId: string;
  readonly approver: string;
  readonly verdict: 'approve' | 'reject';
  readonly runbookHash: string;
  readonly at: EpochMs;
  readonly channel: 'cli' | 'web' | 'api' | 'slack' | 'email';
  readonly identity: string;
  readonly reason?: string;
}

/** Where drafting stands for an incident in `drafting`: attempts are counted before each one starts (a crash counts). */
export interface DraftingRecord {
  attempts: number;
  /** When the current attempt started. */
  startedAt: EpochMs;
  /** Why the last attempt failed, when it did. */
  lastError: string | null;
}

/** A stage failure recorded on the incident it happened to (the others went on). */
export interface StageFailure {
  readonly stage: string;
  readonly at: EpochMs;
  readonly error: string;
  readonly retryable: boolean;
}

/** Where an incident happened: its own account and region, or `home` (the policy's `account`) for older records. */
export function incidentPlace(inc: Pick<Incident, 'account' | 'region'>, home: { readonly name: string; readonly region: string }): { readonly account: string; readonly region: string } {
  return { account: inc.account ?? home.name, region: inc.region ?? home.region };
}
