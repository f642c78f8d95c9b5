import type Database from 'better-sqlite3';
import type { EpochMs } from '../core/time.js';
import { StepBudgetSpentError } from './errors.js';
import { hourBucket } from './store.js';

/** The blast-radius budget as one counter per clock hour in `step_budget`. */
export class SqliteBudget {
  constructor(private readonly db: Database.Database) {}

  /** Call inside the claim's write transaction: a refused budget rolls the claim back with it. */
  spend(at: EpochMs, max: number): void {
    const hour = hourBucket(at);
    const used = this.used(at);
    if (used >= max) throw new StepBudgetSpentError(hour, used, max);
    this.db.prepare('INSERT INTO step_budget (hour_start, used) VALUES (?, 1) ON CONFLICT(hour_start) DO UPDATE SET used = used + 1').run(hour);
  }

  used(at: EpochMs): number {
    return (this.db.prepare('SELECT used FROM step_budget WHERE hour_start = ?').get(hourBucket(at)) as { used: number } | undefined)?.used ?? 0;
  }
}
