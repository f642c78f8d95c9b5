/**
 * Bayesian online change-point detection (Adams & MacKay 2007, arXiv 0710.3742), as NAB's `bayesChangePt` detector runs
 * it: a Normal model of unknown mean and variance per run (Normal-Gamma prior, Student-t predictive), a constant hazard,
 * run lengths truncated at `maxRun`, and NAB's score ("option 3"): when the most probable run length drops from m to
 * m' < m, the score is 1 − m'/m (a long run that ends is more anomalous than a short one), else 0.
 *
 * One change from NAB: the run-length set is BOUNDED. NAB keeps every run length up to 500 (four arrays of 501 numbers);
 * here only the `keep` most probable hypotheses survive. Each point adds exactly one hypothesis (a change point now),
 * so dropping the least probable one per point keeps the set at `keep`: O(keep) per point, and the state is a few
 * hundred numbers of plain JSON. The posterior is concentrated on few run lengths except right after a change, when
 * the young hypotheses that matter are the most probable ones, so the argmax (all the score needs) is unchanged.
 *
 * Per hypothesis only the run length r, its log posterior, the mean and β are stored: κ = κ0 + r and α = α0 + r/2.
 * Probabilities are kept in logs, so a value far out under every hypothesis cannot underflow to 0/0. The stored numbers
 * are rounded (log posteriors to 1e-6, means to 10 and β to 7 significant digits) as they are computed, so the state
 * is small JSON and a persisted state continues exactly as the one in memory would.
 */

export interface ChangePointParams {
  /** Normal-Gamma prior (NAB: α 0.1, β 0.001, κ 1, μ 0). */
  readonly alpha0: number;
  readonly beta0: number;
  readonly kappa0: number;
  readonly mu0: number;
  /** Expected run length between change points: constant hazard 1/lambda (NAB: 250). */
  readonly lambda: number;
  /** Run lengths beyond this are dropped (NAB: 500). */
  readonly maxRun: number;
  /** Hypotheses kept (the most probable ones). */
  readonly keep: number;
}

export const DEFAULT_CHANGE_POINT: ChangePointParams = {
  alpha0: 0.1,
  beta0: 0.001,
  kappa0: 1,
  mu0: 0,
  lambda: 250,
  maxRun: 500,
  keep: 12,
};

export interface ChangePointState {
  /** Points seen. */
  n: number;
  /** Most probable run length after the previous point (NAB's previousMaxRun starts at 1). */
  pm: number;
  /** Hypotheses, youngest first: run length, log posterior, posterior mean, posterior β. */
  r: number[];
  lp: number[];
  mu: number[];
  b: number[];
}

export const initChangePoint = (p: ChangePointParams = DEFAULT_CHANGE_POINT): ChangePointState => ({
  n: 0,
  pm: 1,
  r: [0],
  lp: [0],
  mu: [p.mu0],
  b: [p.beta0],
});

export interface ChangePointOut {
  /** NAB's score: 1 − m'/m when the most probable run length drops from m to m', else 0. */
  score: number;
  /** Posterior probability that the current run is shorter than `shortRun` points (see changePointUpdate). */
  shortMass: number;
  /** The most probable run length now. */
  run: number;
}

// Lanczos approximation (g = 7, n = 9) of ln Γ(x) for x > 0; relative error ~1e-15.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);
/** ln Γ(x), x > 0. */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (y + i);
  return HALF_LN_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln Γ((ν + 1)/2) − ln Γ(ν/2) − ln(νπ)/2: the part of the Student-t log density that depends on ν only. */
const lnStudentNorm = (nu: number): number => lnGamma((nu + 1) / 2) - lnGamma(nu / 2) - 0.5 * Math.log(nu * Math.PI);

/** ln of the Student-t density with ν degrees of freedom, location mu and scale s, at x. */
export function lnStudentT(x: number, nu: number, mu: number, s: number, norm = lnStudentNorm(nu)): number {
  const u = (x - mu) / s;
  return norm - Math.log(s) - ((nu + 1) / 2) * Math.log1p((u * u) / nu);
}

// ν = 2α0 + r depends on the run length only: its normalizing constant is cached per (α0, r) for the common run lengths.
const NORM_CACHE = 1024;
let normAlpha0 = NaN;
const normCache = new Float64Array(NORM_CACHE).fill(NaN);
function normFor(alpha0: number, r: number): number {
  if (alpha0 !== normAlpha0) {
    normCache.fill(NaN);
    normAlpha0 = alpha0;
  }
  if (r >= NORM_CACHE) return lnStudentNorm(2 * alpha0 + r);
  let v = normCache[r] as number;
  if (Number.isNaN(v)) {
    v = lnStudentNorm(2 * alpha0 + r);
    normCache[r] = v;
  }
  return v;
}

let predBuf = new Float64Array(1);
const POW10 = Array.from({ length: 61 }, (_, i) => 10 ** Math.abs(i - 30));
/** `v` rounded to `digits` significant digits, as a number whose JSON is short (non-finite and 0 unchanged). */
export function roundSig(v: number, digits: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const k = digits - 1 - Math.floor(Math.log10(Math.abs(v)));
  if (k > 30 || k < -30) return v;
  const f = POW10[k + 30] as number;
  return k >= 0 ? Math.round(v * f) / f : Math.round(v / f) * f;
}
const roundLp = (v: number): number => Math.round(v * 1e6) / 1e6;

/**
 * Scores `x` against the run-length posterior built from earlier points, then updates it. Mutates `st` and `out`.
 * `shortRun`: out.shortMass is the posterior mass on run lengths < shortRun (how sure the model is that the series
 * changed within the last shortRun points).
 */
export function changePointUpdate(st: ChangePointState, x: number, p: ChangePointParams, out: ChangePointOut, shortRun = 10): void {
  // NAB evaluates only run lengths <= maxRun; the one that grew past it last time is dropped now.
  let k = st.r.length;
  while (k > 1 && (st.r[k - 1] as number) > p.maxRun) k--;
  if (k < st.r.length) {
    st.r.length = k;
    st.lp.length = k;
    st.mu.length = k;
    st.b.length = k;
  }
  if (predBuf.length < k) predBuf = new Float64Array(Math.max(k, p.keep + 1));
  const lnH = -Math.log(p.lambda);
  const ln1mH = Math.log1p(-1 / p.lambda);
  // Predictive of x under each run length, then the joint with the run length before (log).
  let cpMax = -Infinity;
  for (let i = 0; i < k; i++) {
    const r = st.r[i] as number;
    const alpha = p.alpha0 + r / 2;
    const kappa = p.kappa0 + r;
    const beta = st.b[i] as number;
    const s = Math.sqrt((beta * (kappa + 1)) / (alpha * kappa));
    const j = (st.lp[i] as number) + lnStudentT(x, 2 * alpha, st.mu[i] as number, s, normFor(p.alpha0, r));
    predBuf[i] = Number.isNaN(j) ? -Infinity : j;
    if ((predBuf[i] as number) > cpMax) cpMax = predBuf[i] as number;
  }
  // Change point now: the hazard share of every hypothesis (log-sum-exp).
  let cpSum = 0;
  for (let i = 0; i < k; i++) cpSum += Math.exp((predBuf[i] as number) - cpMax);
  const lpCp = cpMax === -Infinity ? 0 : cpMax + Math.log(cpSum) + lnH;
  // Growth, and the sufficient statistics of each grown run (NAB's updateTheta).
  for (let i = 0; i < k; i++) {
    const r = st.r[i] as number;
    const kappa = p.kappa0 + r;
    const mu = st.mu[i] as number;
    const d = x - mu;
    st.b[i] = roundSig((st.b[i] as number) + (kappa * d * d) / (2 * (kappa + 1)), 7);
    st.mu[i] = roundSig((kappa * mu + x) / (kappa + 1), 10);
    st.r[i] = r + 1;
    st.lp[i] = (predBuf[i] as number) + ln1mH;
  }
  st.r.unshift(0);
  st.lp.unshift(cpMax === -Infinity ? 0 : lpCp);
  st.mu.unshift(p.mu0);
  st.b.unshift(p.beta0);
  if (cpMax === -Infinity) {
    // Nothing could have produced x (non-finite): restart from the prior rather than carry NaN.
    st.r.length = 1;
    st.lp.length = 1;
    st.mu.length = 1;
    st.b.length = 1;
  }
  // Bounded set: drop the least probable hypothesis (never the newest; one is added per point).
  if (st.r.length > p.keep) {
    let worst = 1;
    for (let i = 2; i < st.r.length; i++) if ((st.lp[i] as number) < (st.lp[worst] as number)) worst = i;
    st.r.splice(worst, 1);
    st.lp.splice(worst, 1);
    st.mu.splice(worst, 1);
    st.b.splice(worst, 1);
  }
  // Normalize, find the most probable run length, and the mass on short runs.
  let m = -Infinity;
  for (const v of st.lp) if (v > m) m = v;
  let z = 0;
  for (const v of st.lp) z += Math.exp(v - m);
  const lnZ = m + Math.log(z);
  let best = 0;
  let shortMass = 0;
  for (let i = 0; i < st.lp.length; i++) {
    const v = roundLp((st.lp[i] as number) - lnZ);
    st.lp[i] = v;
    if (v > (st.lp[best] as number)) best = i;
    if ((st.r[i] as number) < shortRun) shortMass += Math.exp(v);
  }
  const run = st.r[best] as number;
  out.score = run < st.pm ? 1 - run / st.pm : 0;
  out.shortMass = shortMass > 1 ? 1 : shortMass;
  out.run = run;
  st.pm = run;
  st.n += 1;
}
