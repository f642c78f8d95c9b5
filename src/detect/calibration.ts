/**
 * Empirical tail calibration of a surprise (peaks over threshold, as in Siffer et al. 2017, "SPOT", with an exponential
 * tail): the anomaly likelihood's nominal tail probability assumes the short averages are Gaussian, and on real series
 * they are not (heavy tails, bursts, routine jumps), so the nominal figure is over-confident by a factor that differs
 * from series to series: a stationary noisy series reached a nominal 1-in-2,500,000 within 20,000 points. Here the
 * surprise L = −ln(nominal tail) is re-expressed as the tail probability this very series gives it:
 *
 *   P(L > u) = q   is the (decayed) share of past points whose surprise exceeded u;
 *   P(L > u + y | L > u) = exp(−y / m),   m the (decayed, clipped) mean excess over u.
 *
 * For L ≤ u the log tail is interpolated linearly from 0 at L = 0 to ln q at L = u, so the map is continuous and
 * monotone. Priors: `prior` pseudo-exceedances at the nominal rate e^−u with the nominal mean excess 1 (what a
 * Gaussian would give), so a young series is scored as before and learns its own tail as it runs.
 *
 * A point's excess is clipped to `clip`·m before it is learned, so one gross anomaly does not blunt every later one.
 * Being a parametric tail above u, it can claim events rarer than 1 in (points seen), unlike a plain empirical count.
 * O(1) per point; the state is three numbers.
 */

export interface CalibrationParams {
  /** Surprise (−ln nominal tail) from which on the tail is modelled as exponential. */
  readonly u: number;
  /** Prior pseudo-exceedances (at the nominal rate e^−u and nominal mean excess 1). */
  readonly prior: number;
  /** Memory (points) of the counts. */
  readonly memory: number;
  /** A learned excess is clipped to clip·m. */
  readonly clip: number;
  /** Points scoring this or more are not learned (nor, with holdOut, the suppression hold after such a score). */
  readonly learnBelow: number;
  readonly holdOut: boolean;
  /** Only ever makes a surprise less surprising than the nominal tail says (never more). */
  readonly deflateOnly: boolean;
}

export const DEFAULT_CALIBRATION: CalibrationParams = { u: Math.log(100), prior: 5, memory: 5000, clip: 4, learnBelow: 0.5, holdOut: true, deflateOnly: true };

export interface CalibrationState {
  /** Decayed count of points, of exceedances of u, and sum of (clipped) excesses. */
  n: number;
  k: number;
  e: number;
}

export const initCalibration = (): CalibrationState => ({ n: 0, k: 0, e: 0 });

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Share of points above u and mean excess over u, priors included. */
function tailShape(st: CalibrationState, p: CalibrationParams): { lnQ: number; m: number } {
  const k = st.k + p.prior;
  const lnQ = Math.log(k / (st.n + p.prior * Math.exp(p.u)));
  return { lnQ: lnQ > 0 ? 0 : lnQ, m: (st.e + p.prior) / k };
}

/** ln of the calibrated tail probability of surprise `l` (>= 0) in this series: always <= 0, monotone in l. */
export function calibratedLogTail(st: CalibrationState, l: number, p: CalibrationParams): number {
  const { lnQ, m } = tailShape(st, p);
  if (!(l > 0)) return 0;
  const c = l <= p.u ? (l / p.u) * lnQ : lnQ - (l - p.u) / m;
  return p.deflateOnly && c < -l ? -l : c;
}

/** Learns surprise `l` (after it was scored). */
export function calibrationLearn(st: CalibrationState, l: number, p: CalibrationParams): void {
  const keep = 1 - 1 / p.memory;
  const over = l > p.u;
  let excess = 0;
  if (over) {
    const { m } = tailShape(st, p);
    excess = Math.min(l - p.u, p.clip * m);
  }
  st.n = round4(keep * st.n + 1);
  st.k = round4(keep * st.k + (over ? 1 : 0));
  st.e = round4(keep * st.e + excess);
}
