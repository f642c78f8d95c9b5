import type { EpochMs } from '../core/time.js';
import type { MaintenanceReport, Store } from './store.js';

/**
 * Calls `store.maintain` at most once per `everyMs` of the pipeline's clock (after a cycle, never during
 * one), so archiving and the WAL checkpoint keep pace with simulated time as with real time. A failure is
 * reported and tried again at the next opportunity; it never fails the cycle.
 */
export class StoreMaintenance {
  private lastAt = -Infinity;
  private running: Promise<MaintenanceReport | null> | null = null;

  constructor(
    private readonly store: Pick<Store, 'maintain'>,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Maintains now if it is due; returns what was done, or null (not due, already running, or failed). */
  maybe(now: EpochMs, signal?: AbortSignal): Promise<MaintenanceReport | null> {
    if (this.running || now - this.lastAt < this.everyMs) return Promise.resolve(null);
    this.running = (async () => {
      try {
        const report = await this.store.maintain(now, signal ? { signal } : {});
        this.lastAt = now;
        return report;
      } catch (err) {
        this.onError(err);
        return null;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
