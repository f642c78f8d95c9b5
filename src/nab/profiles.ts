/** NAB cost matrices (`config/profiles.json`). tnWeight is never used by the scorer. */
export interface Profile {
  readonly tpWeight: number;
  readonly fnWeight: number;
  readonly fpWeight: number;
}

export type ProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

export const PROFILE_NAMES: readonly ProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  standard: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11 },
};

/** The "nothing detected" threshold NAB starts its sweep with. */
export const INITIAL_THRESHOLD = 1.1;
/** Share of each file that is probationary (ignored). */
export const PROBATION_PERCENT = 0.15;
