import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One action the simulated cloud was asked to run. */
export interface SimActionRecord {
  readonly key: string;
  readonly action: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly at: number;
  status: 'in_progress' | 'done' | 'failed';
  summary: string;
}

/** What the simulated cloud remembers across daemon restarts, as a real account would. */
export interface SimStateData {
  /** Wall-clock ms when virtual time started, so a restarted daemon continues the same timeline. */
  wallStart: number | null;
  /** How many times execute() was called, per idempotency key (including repeats). */
  executeCalls: Record<string, number>;
  actions: SimActionRecord[];
  /** Deployment id → virtual time it was rolled back. */
  rolledBack: Record<string, number>;
  /** Service → virtual times of forced restarts. */
  restarts: Record<string, number[]>;
  /** Rollback executions the cloud started (they show up as deployments). */
  rollbackExecutions: { id: string; pipeline: string; at: number; rollbackOf: string }[];
  /** Service → desired task count an action set (absent: the scenario's count). */
  desiredCounts: Record<string, number>;
  /** "pipeline/stage" → the inbound transition an action set (absent: enabled). */
  transitions: Record<string, { enabled: boolean; at: number }>;
  /** "pipeline/executionId" → virtual time an action stopped it. */
  stoppedExecutions: Record<string, number>;
}

export function emptySimState(): SimStateData {
  return { wallStart: null, executeCalls: {}, actions: [], rolledBack: {}, restarts: {}, rollbackExecutions: [], desiredCounts: {}, transitions: {}, stoppedExecutions: {} };
}

/** Keeps the state in a JSON file (atomic rename), or only in memory when no path is given. */
export class SimStateFile {
  readonly data: SimStateData;
  constructor(private readonly path: string | null) {
    this.data = path && existsSync(path) ? { ...emptySimState(), ...(JSON.parse(readFileSync(path, 'utf8')) as SimStateData) } : emptySimState();
  }
  save(): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    // A temporary file of this process's own: daemons sharing a data dir (the three-daemon test) each write the shared
    // simulated account's state, and one name let one daemon rename another's file away (ENOENT at start).
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    renameSync(tmp, this.path);
  }
}
