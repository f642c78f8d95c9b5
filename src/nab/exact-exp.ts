/**
 * exp(x) rounded to nearest, computed in double-double arithmetic.
 *
 * V8's Math.exp is not correctly rounded (it can differ from glibc's exp, which NAB's Python uses, by 1 ulp),
 * and NAB's scores must be reproduced to the last bit for exact float threshold comparisons.
 * Argument reduction x = k ln2 + r and a Taylor series for e^r are carried with ~106 bits, so the final
 * rounding is correct except in vanishingly rare near-halfway cases.
 */

const SPLIT = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [s, e] = twoSum(ah, bh);
  const [hi, lo] = twoSum(s, e + al + bl);
  return [hi, lo];
}

function ddMul(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [p, e] = twoProd(ah, bh);
  return twoSum(p, e + ah * bl + al * bh);
}

const LN2_HI = 0.6931471805599453;
const LN2_LO = 2.3190468138462996e-17;
const TERMS = 27;
// 1/n! as double-double, n = 0..TERMS
const INV_FACT: [number, number][] = [];
{
  let h = 1;
  let l = 0;
  INV_FACT.push([1, 0]);
  for (let n = 1; n <= TERMS; n++) {
    // divide (h, l) by n: q = h/n, remainder correction
    const q = h / n;
    const [p, pe] = twoProd(q, n);
    const r = (h - p - pe + l) / n;
    [h, l] = twoSum(q, r);
    INV_FACT.push([h, l]);
  }
}

export function exactExp(x: number): number {
  if (!Number.isFinite(x)) return Math.exp(x);
  if (x > 709 || x < -708) return Math.exp(x);
  const k = Math.round(x / LN2_HI);
  // r = x - k ln2 in double-double
  const [kh, kl] = twoProd(k, LN2_HI);
  let [rh, rl] = ddAdd(x, 0, -kh, -kl);
  [rh, rl] = ddAdd(rh, rl, -k * LN2_LO, 0);
  // Horner: sum_{n} r^n / n!
  let [sh, sl] = INV_FACT[TERMS] as [number, number];
  for (let n = TERMS - 1; n >= 0; n--) {
    [sh, sl] = ddMul(sh, sl, rh, rl);
    const [fh, fl] = INV_FACT[n] as [number, number];
    [sh, sl] = ddAdd(sh, sl, fh, fl);
  }
  const scale = 2 ** k;
  return sh * scale + sl * scale;
}
