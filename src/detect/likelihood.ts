/**
 * Anomaly likelihood (the post-processing of Numenta's HTM detector, Ahmad et al. 2017), in streaming form:
 * a raw novelty score in [0, 1] is averaged over the last few points, and that short average is compared with the
 * long-run distribution of short averages of the same series (a Gaussian fitted by exponentially weighted moments).
 * The likelihood is 1 − Q((short − mean) / std); a series whose raw scores are always high (noisy, or routinely
 * jumping like a square wave) learns that, and only an unusual run of high raw scores reaches a likelihood near 1.
 *
 * Pure functions over plain numbers; O(1) per point.
 */

/** ln(Q(z)), the log upper tail of the standard normal, accurate in the far tail (relative error < 1.2e-7). */
export function logNormalTail(z: number): number {
  // erfc(x) by the Chebyshev fit of Numerical Recipes (erfcc): relative error < 1.2e-7 for every x >= 0.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const lnErfc =
    Math.log(t) +
    (-x * x -
      1.26551223 +
      t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  // Q(z) = erfc(z/√2)/2 for z >= 0; Q(z) = 1 − erfc(|z|/√2)/2 for z < 0.
  return z >= 0 ? lnErfc - Math.LN2 : Math.log1p(-0.5 * Math.exp(lnErfc));
}

/** Q(z) = P(Z > z) for the standard normal. */
export const normalTailProb = (z: number): number => Math.exp(logNormalTail(z));

/**
 * Maps a tail probability to a score in [0, 1] on a log scale: score = log10(1 / tail) / decades, capped at 1.
 * With decades = 10 this is Numenta's `computeLogLikelihood` (log(1 − likelihood) / log(1e-10)): a tail of 1e-5
 * scores 0.5. The log scale spreads the extreme likelihoods apart, so one threshold works across series.
 */
export function logLikelihoodScore(logTail: number, decades: number): number {
  const s = -logTail / (Math.LN10 * decades);
  return s <= 0 ? 0 : s >= 1 ? 1 : s;
}

/** Floors of the fitted distribution (Numenta: mean >= 0.03, variance >= 0.0003), so a quiet series does not jump to 1. */
export interface LikelihoodFloors {
  readonly minMean: number;
  readonly minStd: number;
}

/**
 * Standardized deviation of a short average from the long-run distribution (mean m, variance v),
 * with the floors applied. Only positive deviations (more novelty than usual) matter.
 */
export function likelihoodZ(short: number, m: number, v: number, f: LikelihoodFloors): number {
  const mean = m < f.minMean ? f.minMean : m;
  const sd = Math.max(Math.sqrt(v > 0 ? v : 0), f.minStd);
  return (short - mean) / sd;
}
