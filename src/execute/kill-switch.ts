/**
 * The kill switch (issue 12 item 4) has three sources, and any one of them stops every step: the
 * policy flag (a reviewed change), the environment (CLOUDOPS_KILL_SWITCH on the task: an operator's
 * override without touching the policy) and an SSM parameter (flipped at run time, no redeploy). A source
 * can only stop execution: none can switch off what another turned on.
 */

/** The environment variable the composition root reads once at start. */
export const KILL_SWITCH_ENV = 'CLOUDOPS_KILL_SWITCH';

export class KillSwitchEnvError extends Error {
  constructor(value: string) {
    super(`${KILL_SWITCH_ENV}="${value.slice(0, 40)}" is not "on" or "off" (unset = off; on stops every execution)`);
    this.name = 'KillSwitchEnvError';
  }
}

/**
 * Whether the environment's override is on. Unset or empty = off; "on"/"off" (also true/false, 1/0, any
 * case). Anything else is refused before the daemon starts rather than guessed at.
 */
export function parseKillSwitchEnv(value: string | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'off' || v === 'false' || v === '0') return false;
  if (v === 'on' || v === 'true' || v === '1') return true;
  throw new KillSwitchEnvError(value ?? '');
}

export interface KillSwitchSources {
  readonly policyFlag: boolean;
  readonly envOverride: boolean;
  /** Reads the SSM parameter (fails closed itself); null = no parameter. */
  readonly parameter: ((signal: AbortSignal) => Promise<boolean>) | null;
}

/** One check the runner makes before every step: on if any source is on (the parameter is read only when needed). */
export function killSwitchCheck(s: KillSwitchSources): (signal: AbortSignal) => Promise<boolean> {
  return async (signal) => s.policyFlag || s.envOverride || (s.parameter ? await s.parameter(signal) : false);
}
