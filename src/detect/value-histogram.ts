/**
 * A bounded histogram of the values a series has taken, for "has this value (nearly) never been seen?" novelty.
 *
 * `bins` integer counts over power-of-two-wide bins: bin k covers [k·2^w, (k+1)·2^w), and the histogram holds bins
 * off .. off+bins−1. When a value falls outside, the window shifts if the span fits, otherwise the width doubles and
 * neighbouring bins merge (exactly: bin k becomes bin ⌊k/2⌋), so the histogram always covers the range seen so far
 * with a resolution of about range/bins. Counts are halved every `halfLife` points, so old habits fade.
 *
 * Plain JSON state (small integers), O(bins) only when the range grows or counts are halved.
 */

export interface HistState {
  /** Bin width exponent (width = 2^w). */
  w: number;
  /** Index of the first bin. */
  off: number;
  /** Counts. */
  c: number[];
  /** Sum of counts. */
  tot: number;
  /** Points since the last halving. */
  age: number;
}

export const initHist = (bins: number): HistState => ({ w: 0, off: 0, c: new Array<number>(bins).fill(0), tot: 0, age: 0 });

/** 2^-w for every integer w a double's exponent allows (index w + 1100), so binOf does no Math.pow per point. */
const INV_WIDTH = new Float64Array(2200).map((_, i) => Math.pow(2, 1100 - i));

function binOf(x: number, w: number): number {
  const inv = w >= -1100 && w < 1100 ? (INV_WIDTH[w + 1100] as number) : Math.pow(2, -w);
  return Math.floor(x * inv);
}

/**
 * Makes x's bin fit (−1 when x·2^−w overflows): shifts the window when the occupied bins and x's bin span at most `bins`, otherwise doubles the
 * width (bin k becomes bin ⌊k/2⌋; every count is kept) and tries again. Returns the bin's position in `c`.
 */
function fit(h: HistState, x: number): number {
  const B = h.c.length;
  let k = binOf(x, h.w);
  if (!Number.isFinite(k)) return -1; // beyond what the bins can address: unseen, and not recorded
  for (;;) {
    if (k >= h.off && k < h.off + B) return k - h.off;
    let first = 0;
    while (first < B && h.c[first] === 0) first++;
    let last = B - 1;
    while (last > first && h.c[last] === 0) last--;
    const lo = first < B ? Math.min(h.off + first, k) : k;
    const hi = first < B ? Math.max(h.off + last, k) : k;
    const c = new Array<number>(B).fill(0);
    if (hi - lo + 1 <= B) {
      const off = k < h.off ? k : k - B + 1;
      for (let j = first; j <= last && first < B; j++) c[h.off + j - off] = h.c[j] as number;
      h.c = c;
      h.off = off;
      return k - off;
    }
    const off = Math.floor(h.off / 2);
    for (let j = 0; j < B; j++) {
      const t = Math.floor((h.off + j) / 2) - off;
      c[t] = (c[t] as number) + (h.c[j] as number);
    }
    h.c = c;
    h.off = off;
    h.w += 1;
    k = binOf(x, h.w);
  }
}

/** Places the (empty) histogram around the first value: bins about 1/1000 of its magnitude; they widen as the range grows. */
export function histStart(h: HistState, x: number): void {
  h.w = Math.floor(Math.log2(Math.abs(x) * 1e-3 + 1e-12));
  h.off = binOf(x, h.w) - (h.c.length >> 1);
}

/**
 * Fraction of the (decayed) past values that fell in x's bin, before x is added (1 for the very first value).
 * Then adds x. Mutates `h`.
 */
export function histObserve(h: HistState, x: number, halfLife: number): number {
  const j = fit(h, x);
  if (j < 0) return 0;
  const cj = h.c[j] as number;
  const frac = h.tot > 0 ? cj / h.tot : 1;
  h.c[j] = cj + 1;
  h.tot += 1;
  h.age += 1;
  if (h.age >= halfLife) {
    let t = 0;
    for (let i = 0; i < h.c.length; i++) {
      const v = Math.floor((h.c[i] as number) / 2);
      h.c[i] = v;
      t += v;
    }
    h.tot = t;
    h.age = 0;
  }
  return frac;
}
