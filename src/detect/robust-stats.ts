/** Small numeric helpers shared by the detectors. Pure, allocation-free. */

/** Clamps `x` to [lo, hi]. */
export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** EWMA smoothing factor for an effective memory of `n` points (2 / (n + 1)). */
export const alphaFor = (n: number): number => 2 / (n + 1);

/** Upper tail probability of the standard normal, Q(z) = P(Z > z) (Abramowitz–Stegun 7.1.26 on erfc, |err| < 1.5e-7). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  const q = 0.5 * y;
  return z >= 0 ? q : 1 - q;
}
