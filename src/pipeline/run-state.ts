/**
 * The daemon's lifecycle, with guarded transitions (temporal's worker State):
 * starting → running → draining → stopped (starting → draining when a start is abandoned).
 * Once draining, no stage starts new work and no execution step is started.
 */
export type RunPhase = 'starting' | 'running' | 'draining' | 'stopped';

const NEXT: Readonly<Record<RunPhase, readonly RunPhase[]>> = {
  starting: ['running', 'draining'],
  running: ['draining'],
  draining: ['stopped'],
  stopped: [],
};

export class IllegalRunTransitionError extends Error {
  constructor(
    readonly from: RunPhase,
    readonly to: RunPhase,
  ) {
    super(`the daemon cannot go from ${from} to ${to}`);
    this.name = 'IllegalRunTransitionError';
  }
}

export class RunState {
  private current: RunPhase;

  constructor(initial: RunPhase = 'starting') {
    this.current = initial;
  }

  get phase(): RunPhase {
    return this.current;
  }

  /** Moves to `to`; throws IllegalRunTransitionError when the lifecycle does not allow it. */
  to(to: RunPhase): void {
    if (!NEXT[this.current].includes(to)) throw new IllegalRunTransitionError(this.current, to);
    this.current = to;
  }

  /** Null while new work may start; otherwise why not. */
  admits(): string | null {
    return this.current === 'starting' || this.current === 'running' ? null : `the daemon is ${this.current}`;
  }
}
