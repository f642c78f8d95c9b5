/** Axis ticks for the incident charts: round values and round clock times. Pure. */

/** About `count` round values (1, 2 or 5 times a power of ten apart) inside [lo, hi]. */
export function valueTicks(lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const pow = 10 ** Math.floor(Math.log10((hi - lo) / count));
  // The round step whose number of ticks comes closest to `count`.
  const steps = [1, 2, 5, 10, 20, 50].map((m) => m * pow);
  const step = steps.reduce((best, s) => (Math.abs((hi - lo) / s - count) < Math.abs((hi - lo) / best - count) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const MIN = 60_000;
/** Tick spacings a clock reader expects: 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MIN);

/** Round UTC times (at most about `count`) inside [t0, t1]. */
export function timeTicks(t0: number, t1: number, count = 6): number[] {
  if (!(t1 > t0)) return [];
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1] ?? 1440 * MIN;
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return out;
}

/** HH:MM in UTC: tick labels (the date is in the chart's caption). */
export const fmtClock = (t: number): string => new Date(t).toISOString().slice(11, 16);

/** A tick value short enough for the axis: 1.5k, 0.25, 12. */
export function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}
