import { Gauge, type Registry } from 'prom-client';
import type { LeaderStatus } from './leader.js';

/** What the pipeline counts; the daemon backs it with Prometheus (/metrics), tests with nothing. */
export interface PipelineMetrics {
  /** One item (or a whole stage) failed in `stage`. */
  stageFailed(stage: string): void;
  /** A cycle ended: `ok`, `error` (a stage failed) or `overrun` (it passed its deadline). */
  cycleEnded(outcome: 'ok' | 'error' | 'overrun', seconds: number): void;
}

export const noMetrics: PipelineMetrics = {
  stageFailed: () => undefined,
  cycleEnded: () => undefined,
};

/**
 * The leader lease on /metrics: `cloudops_leader` (1 while this process acts), `cloudops_lease_token`
 * (the token held or last held) and `cloudops_lease_age_seconds` (since the store last answered a
 * renewal; it rises when the store cannot be reached, and the leader stops acting before it passes the TTL).
 */
export function registerLeaderMetrics(registry: Registry, status: () => LeaderStatus): void {
  new Gauge({ name: 'cloudops_leader', help: '1 while this process holds the leader lease and acts, 0 while it follows', registers: [registry], collect() { this.set(status().role === 'leader' ? 1 : 0); } });
  new Gauge({ name: 'cloudops_lease_token', help: 'Fencing token of the leader lease this process holds or last held (0: never held)', registers: [registry], collect() { this.set(status().token ?? 0); } });
  new Gauge({
    name: 'cloudops_lease_age_seconds',
    help: 'Seconds since the store last answered a lease renewal of this process (-1: never)',
    registers: [registry],
    collect() {
      const ms = status().sinceLastAnswerMs;
      this.set(ms === null ? -1 : ms / 1000);
    },
  });
}
