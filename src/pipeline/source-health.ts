import { classifyAwsError } from '../cloud/aws/errors.js';
import { PortError } from '../core/errors.js';
import type { PipelineDeps } from './context.js';

/**
 * Which outside dependency is failing right now, and why (issue 16 items 6 and 9): every call through a
 * port or the store is seen; a source whose last call failed is degraded until a call succeeds again,
 * so it recovers without a restart. /readyz names degraded sources, /metrics counts failures by reason.
 */

export type SourceName = 'metrics' | 'logs' | 'deployments' | 'actions' | 'killSwitch' | 'store';
export type FailureReason = 'throttled' | 'server_error' | 'timeout' | 'network' | 'refused' | 'unavailable' | 'other';

export interface DegradedSource {
  readonly source: SourceName;
  readonly reason: FailureReason;
  /** Consecutive failed calls. */
  readonly failures: number;
  /** Wall ms of the first failure of this run of failures. */
  readonly sinceMs: number;
  readonly lastError: string;
}

/** Maps a failure to the reason it is counted under. Pure. */
export function failureReason(err: unknown): FailureReason {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const aws = classifyAwsError(cause).kind;
  if (aws === 'throttled') return 'throttled';
  if (aws === 'timeout' || aws === 'cancelled') return 'timeout';
  if (aws === 'network') return 'network';
  if (aws === 'server') return 'server_error';
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  if (/throttl|rate exceeded|too many requests|\b429\b/i.test(text)) return 'throttled';
  if (/timed? ?out|timeout|abort/i.test(text)) return 'timeout';
  if (/SQLITE_BUSY|SQLITE_LOCKED|SQLITE_IOERR|SQLITE_CANTOPEN|SQLITE_FULL|database is locked|unavailable/i.test(text)) return 'unavailable';
  if (/\b5\d\d\b|internal (server )?error|service unavailable|server error/i.test(text)) return 'server_error';
  if (/ECONNRESET|ECONNREFUSED|EPIPE|socket hang up/i.test(text)) return 'network';
  if (err instanceof PortError && !err.retryable) return 'refused';
  return 'other';
}

export class SourceHealth {
  private readonly state = new Map<SourceName, DegradedSource>();

  constructor(
    private readonly wallNow: () => number = Date.now,
    /** Called on every failure (the /metrics counter). */
    private readonly onFailure: (source: SourceName, reason: FailureReason) => void = () => undefined,
  ) {}

  succeeded(source: SourceName): void {
    this.state.delete(source);
  }

  failed(source: SourceName, err: unknown): void {
    const reason = failureReason(err);
    const prev = this.state.get(source);
    const message = err instanceof Error ? err.message : String(err);
    this.state.set(source, { source, reason, failures: (prev?.failures ?? 0) + 1, sinceMs: prev?.sinceMs ?? this.wallNow(), lastError: message.slice(0, 300) });
    this.onFailure(source, reason);
  }

  /** Sources whose last call failed, in a stable order. */
  degraded(): DegradedSource[] {
    return [...this.state.values()].sort((a, b) => a.source.localeCompare(b.source));
  }

  isDegraded(source: SourceName): boolean {
    return this.state.has(source);
  }
}

/**
 * `target` with every method that returns a promise reported to `health` under `source`. Methods run
 * with the target as `this` (class instances keep their private state).
 */
export function tracked<T extends object>(target: T, source: SourceName, health: SourceHealth): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]): unknown => {
        let out: unknown;
        try {
          out = (v as (...a: unknown[]) => unknown).apply(t, args);
        } catch (err) {
          health.failed(source, err);
          throw err;
        }
        if (out instanceof Promise) {
          return out.then(
            (r: unknown) => {
              health.succeeded(source);
              return r;
            },
            (err: unknown) => {
              health.failed(source, err);
              throw err;
            },
          );
        }
        return out;
      };
    },
  });
}

/** The pipeline's ports and store, each reporting its calls to `health`. */
export function trackSources(deps: PipelineDeps, health: SourceHealth): PipelineDeps {
  const killSwitch = deps.killSwitch;
  return {
    ...deps,
    store: tracked(deps.store, 'store', health),
    metrics: tracked(deps.metrics, 'metrics', health),
    ...(deps.observeMetrics ? { observeMetrics: tracked(deps.observeMetrics, 'metrics', health) } : {}),
    logs: tracked(deps.logs, 'logs', health),
    deployments: tracked(deps.deployments, 'deployments', health),
    actions: tracked(deps.actions, 'actions', health),
    killSwitch: async (signal) => {
      try {
        const on = await killSwitch(signal);
        health.succeeded('killSwitch');
        return on;
      } catch (err) {
        health.failed('killSwitch', err);
        throw err;
      }
    },
  };
}

/** One line for /readyz: "degraded: metrics (throttled, 3 failures in a row for 12 s)". */
export function describeDegraded(sources: readonly DegradedSource[], wallNow: number): string {
  if (sources.length === 0) return '';
  return `degraded: ${sources.map((s) => `${s.source} (${s.reason}, ${s.failures} failure${s.failures === 1 ? '' : 's'} in a row for ${Math.max(0, Math.round((wallNow - s.sinceMs) / 1000))} s)`).join(', ')}`;
}
