/**
 * A crash-test fault hook: kills this process (SIGKILL, no cleanup, as an OOM kill or a lost host does)
 * right before or right after a named lifecycle write. Inert unless the composition root installs a
 * spec (from CLOUDOPS_FAULT_KILL_AT); `bench:reliability` and the crash tests use it to prove that no
 * write point loses an approval or runs a step twice.
 *
 * Spec: `NAME:before` or `NAME:after`, optionally `#N` for the Nth time that point is reached
 * (default the first), e.g. `step.started:after`, `transition.executing:before#2`. NAME is the audit
 * kind of the write (`step.started`, `decision.recorded`), or `transition.<state>` for a state change.
 */

export type FaultPhase = 'before' | 'after';

export interface FaultSpec {
  readonly point: string;
  readonly phase: FaultPhase;
  readonly nth: number;
}

export class FaultSpecError extends Error {
  constructor(spec: string) {
    super(`fault hook: "${spec}" is not NAME:before or NAME:after[#N] (e.g. step.started:after)`);
    this.name = 'FaultSpecError';
  }
}

/** Parses a spec; throws FaultSpecError naming the bad text. */
export function parseFaultSpec(spec: string): FaultSpec {
  const m = /^([a-z][a-z0-9_.-]*):(before|after)(?:#([1-9]\d*))?$/.exec(spec.trim());
  if (!m?.[1] || !m[2]) throw new FaultSpecError(spec);
  return { point: m[1], phase: m[2] as FaultPhase, nth: m[3] ? Number(m[3]) : 1 };
}

type Kill = (spec: FaultSpec) => void;

let armed: { spec: FaultSpec; seen: number; kill: Kill } | null = null;

const sigkillSelf: Kill = () => {
  process.kill(process.pid, 'SIGKILL');
};

/**
 * Arms the hook (once, in the composition root). An empty or absent spec leaves it inert. `kill` is
 * for tests; the default is SIGKILL to this process.
 */
export function installFaultHook(spec: string | undefined, kill: Kill = sigkillSelf): FaultSpec | null {
  if (spec === undefined || spec.trim() === '') {
    armed = null;
    return null;
  }
  const parsed = parseFaultSpec(spec);
  armed = { spec: parsed, seen: 0, kill };
  return parsed;
}

/** Called around each lifecycle write; does nothing unless an installed spec names this point. */
export function faultPoint(point: string, phase: FaultPhase): void {
  if (!armed || armed.spec.point !== point || armed.spec.phase !== phase) return;
  armed.seen++;
  if (armed.seen === armed.spec.nth) armed.kill(armed.spec);
}
