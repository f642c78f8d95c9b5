/**
 * The adaptive scorer: robust level and scale (Huber-clipped EWMAs), a level-shift re-anchor, a likelihood
 * transform of the surprise (how unusual this point's deviation is compared with this series' own history
 * of deviations), and suppression after a peak (so one incident gives one high score, not a burst).
 *
 * Everything is O(1) per point and the state is a flat JSON object of numbers.
 */
import { alphaFor } from './robust-stats.js';

/** Tunables of the core; one setting for every series (no per-series tuning). */
export interface CoreParams {
  /** Memory (points) of the robust level. */
  readonly levelMemory: number;
  /** Memory (points) of the robust scale. */
  readonly scaleMemory: number;
  /** Residuals are clipped to ±clip·scale before they update level and scale (Huber). */
  readonly clip: number;
  /** Memory (points) of the fast mean used to re-anchor after a level shift. */
  readonly fastMemory: number;
  /** |z| above which a point counts towards a level shift. */
  readonly shiftZ: number;
  /** Consecutive same-side points beyond shiftZ that re-anchor the level. */
  readonly shiftRun: number;
  /** Memory (points) of the surprise distribution (likelihood). */
  readonly surpriseMemory: number;
  /** Memory (points) of the short-term mean surprise (sustained deviations). */
  readonly shortMemory: number;
  /** Half-life (points) of the suppression peak. */
  readonly suppressHalfLife: number;
  /** Relative floor of the scale: scale >= relFloor·|level|. */
  readonly relFloor: number;
  /** Half-life (points) of the record surprise the current one is compared with. */
  readonly recordHalfLife: number;
  /** Width of the logistic that maps (surprise − record) to a score. */
  readonly noveltyWidth: number;
  /** Weight of the likelihood term vs the novelty term (0 = novelty only). */
  readonly likelihoodWeight: number;
  /** Largest drop of the record per point (in surprise units). */
  readonly recordDrop: number;
  /** Points before the record starts learning (the scale is unreliable at first). */
  readonly recordWarmup: number;
  /** A point is reported only if its score beats the decayed peak by this margin. */
  readonly suppressMargin: number;
}

export const DEFAULT_CORE: CoreParams = {
  levelMemory: 500,
  scaleMemory: 200,
  clip: 3,
  fastMemory: 3,
  shiftZ: 4,
  shiftRun: 6,
  surpriseMemory: 1000,
  shortMemory: 6,
  suppressHalfLife: 200,
  relFloor: 1e-3,
  recordHalfLife: 300,
  noveltyWidth: 0.5,
  likelihoodWeight: 0,
  recordWarmup: 50,
  recordDrop: 1e9,
  suppressMargin: 0,
};

export interface CoreState {
  /** Points seen (non-missing). */
  n: number;
  /** Robust level. */
  lvl: number;
  /** Robust mean absolute deviation. */
  dev: number;
  /** Fast EWMA of the values. */
  fast: number;
  /** Signed run length of consecutive points beyond shiftZ (positive = above). */
  run: number;
  /** EW mean and variance of the surprise a = log1p(|z|). */
  am: number;
  av: number;
  /** Short EW mean of the surprise. */
  as: number;
  /** Suppression peak (decays each point). */
  peak: number;
  /** Decaying record of the surprise. */
  rec: number;
}

export const initCore = (): CoreState => ({ n: 0, lvl: 0, dev: 0, fast: 0, run: 0, am: 0, av: 0, as: 0, peak: 0, rec: 0 });

export interface CoreOut {
  /** Suppressed anomaly score in [0, 1]. */
  score: number;
  /** Unsuppressed score in [0, 1]. */
  raw: number;
  /** Signed robust z of the point against the level. */
  z: number;
  /** The level the point was compared with. */
  expected: number;
  /** The scale z was measured in. */
  scale: number;
}

/** The record decays geometrically (half-life) and by a fixed amount per point (recordDrop), whichever is slower. */
function decayRecord(rec: number, p: CoreParams): number {
  return Math.max(rec * Math.pow(0.5, 1 / p.recordHalfLife), rec - p.recordDrop);
}

const MAD_TO_SIGMA = 1.2533141373155001; // sqrt(pi/2): mean |x - mu| -> sigma for a normal

/**
 * Scores `x` against the state built from earlier points (`base` is subtracted first, e.g. a seasonal offset),
 * then learns from it. Mutates `st`.
 */
export function coreUpdate(st: CoreState, x: number, base: number, p: CoreParams, out: CoreOut): void {
  const y = x - base;
  if (st.n === 0) {
    st.n = 1;
    st.lvl = y;
    st.fast = y;
    out.score = 0;
    out.raw = 0;
    out.z = 0;
    out.expected = x;
    out.scale = 0;
    return;
  }
  const n = st.n;
  const floor = p.relFloor * Math.abs(st.lvl) + 1e-9;
  const scale = Math.max(st.dev * MAD_TO_SIGMA, floor);
  const r = y - st.lvl;
  const z = r / scale;
  const az = Math.abs(z);
  out.z = z;
  out.expected = st.lvl + base;
  out.scale = scale;
  out.scale = scale;

  // Surprise and its likelihood against this series' history of surprises.
  const a = Math.log1p(az);
  const warm = n > 2;
  let raw = 0;
  if (warm) {
    const sd = Math.sqrt(st.av) + 0.05;
    const uPoint = (a - st.am) / sd;
    const shortNext = st.as + alphaFor(p.shortMemory) * (a - st.as);
    const uShort = ((shortNext - st.am) / sd) * Math.sqrt(p.shortMemory / 2);
    const u = Math.max(uPoint, uShort);
    const recDecayed = decayRecord(st.rec, p);
    const novelty = 1 / (1 + Math.exp(-(a - recDecayed) / p.noveltyWidth));
    const lik = u > 0 ? u / (u + 4) : 0;
    raw = (1 - p.likelihoodWeight) * novelty + p.likelihoodWeight * lik;
  }
  out.raw = raw;
  // Suppression: only a new peak (above the decayed previous one) is reported.
  const decay = Math.pow(0.5, 1 / p.suppressHalfLife);
  const peak = st.peak * decay;
  out.score = raw > peak + p.suppressMargin ? raw : 0;
  st.peak = Math.max(peak, raw);

  // Learn: surprise distribution.
  const aa = Math.max(alphaFor(p.surpriseMemory), 1 / n);
  const d = a - st.am;
  st.am += aa * d;
  st.av = (1 - aa) * (st.av + aa * d * d);
  st.as += alphaFor(p.shortMemory) * (a - st.as);
  if (n > p.recordWarmup) st.rec = Math.max(decayRecord(st.rec, p), a);

  // Learn: level and scale (Huber-clipped), fast mean, level-shift re-anchor.
  const lim = p.clip * scale;
  const rc = r > lim ? lim : r < -lim ? -lim : r;
  const al = Math.max(alphaFor(p.levelMemory), 1 / (n + 1));
  const as = Math.max(alphaFor(p.scaleMemory), 1 / (n + 1));
  st.lvl += al * rc;
  st.dev += as * (Math.abs(rc) - st.dev);
  st.fast += alphaFor(p.fastMemory) * (y - st.fast);
  if (az > p.shiftZ) st.run = z > 0 ? (st.run > 0 ? st.run + 1 : 1) : st.run < 0 ? st.run - 1 : -1;
  else st.run = 0;
  if (Math.abs(st.run) >= p.shiftRun) {
    st.lvl = st.fast;
    st.dev = Math.max(st.dev, Math.abs(y - st.fast));
    st.run = 0;
  }
  st.n = n + 1;
}
