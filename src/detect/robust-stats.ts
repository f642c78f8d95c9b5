/** Small numeric helpers shared by the detectors. Pure, allocation-free. */

/** Clamps `x` to [lo, hi]. */
export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
