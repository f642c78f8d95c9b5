import { fmtClock, fmtTick, timeTicks, valueTicks } from './chart-axes.js';
import { esc, fmtTime } from './html.js';

/** An executed runbook step, marked where it started. */
export interface ChartStep {
  readonly label: string;
  readonly at: number;
  /** false for a failed step or one handed to a person: drawn in red. */
  readonly ok: boolean;
}

export interface ChartInput {
  readonly title: string;
  readonly points: readonly { readonly t: number; readonly v: number }[];
  /** The anomaly window: onset to cleared (or now). */
  readonly anomaly: { readonly start: number; readonly end: number } | null;
  readonly deployments: readonly { readonly id: string; readonly at: number }[];
  /** The detector's expected value (at the peak): a dashed line. */
  readonly expected?: number;
  /** The suspect deployment: drawn in purple; other deployments in grey. */
  readonly suspectId?: string | null;
  /** The metric's unit, written on the value axis. */
  readonly unit?: string;
  /** The detector's expected range at each time (CloudWatch's anomaly band): shaded. */
  readonly band?: readonly { readonly t: number; readonly lo: number; readonly hi: number }[];
  /** Static detector bounds: dashed red lines. */
  readonly bounds?: { readonly above?: number; readonly below?: number };
  readonly steps?: readonly ChartStep[];
  /** Verification after the steps ran: tinted green from its start to its end (or now). */
  readonly verification?: { readonly start: number; readonly end: number };
  /** A shared time axis (small multiples): every chart of the page spans the same times. */
  readonly range?: { readonly start: number; readonly end: number };
}

interface Marker {
  readonly at: number;
  readonly colour: string;
  readonly cls: string;
  readonly id: string;
  readonly label: string;
  readonly title: string;
  readonly dash: boolean;
}

const GRID = '#eceef1';
const INK = '#5f6b7a';

/**
 * An inline SVG line chart: value gridlines with the unit, clock-time gridlines, the anomaly window
 * shaded, the expected value, band or bounds, deployments and executed steps marked, and the
 * verification window tinted. Pure: data in, SVG string out.
 */
export function renderChart(c: ChartInput, width = 960, height = 220): string {
  if (c.points.length < 2) return `<p class="muted">No datapoints to chart for ${esc(c.title)}.</p>`;
  // The top band holds the marker labels, so no label is ever drawn over the data line.
  const pad = { l: 56, r: 12, t: 36, b: 28 };
  const t0 = c.range?.start ?? c.points[0]?.t ?? 0;
  const t1 = c.range?.end ?? c.points[c.points.length - 1]?.t ?? 1;
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const extra = [c.expected, c.bounds?.above, c.bounds?.below, ...(c.band ?? []).flatMap((b) => [b.lo, b.hi])].filter(finite);
  const vs = [...c.points.map((p) => p.v), ...extra];
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const span = hi - lo || 1;
  const plotW = width - pad.l - pad.r;
  const plotH = height - pad.t - pad.b;
  const x = (t: number): number => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * plotW;
  const y = (v: number): number => pad.t + (1 - (v - lo) / span) * plotH;
  const inRange = c.points.filter((p) => p.t >= t0 && p.t <= t1);
  const path = inRange.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const parts: string[] = [];
  const f = (n: number): string => n.toFixed(1);

  for (const v of valueTicks(lo, hi)) {
    parts.push(`<line class="grid-y" x1="${pad.l}" x2="${width - pad.r}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="${GRID}"/><text x="${pad.l - 4}" y="${f(y(v) + 4)}" font-size="11" fill="${INK}" text-anchor="end">${esc(fmtTick(v))}</text>`);
  }
  for (const t of timeTicks(t0, t1)) {
    const anchor = x(t) < pad.l + 20 ? 'start' : x(t) > width - pad.r - 20 ? 'end' : 'middle';
    parts.push(`<line class="grid-x" x1="${f(x(t))}" x2="${f(x(t))}" y1="${pad.t}" y2="${height - pad.b}" stroke="${GRID}"/><text x="${f(x(t))}" y="${height - 10}" font-size="11" fill="${INK}" text-anchor="${anchor}">${esc(fmtClock(t))}</text>`);
  }
  const span1 = (a0: number, b0: number): [number, number] | null => {
    const a = Math.max(t0, a0);
    const b = Math.min(t1, b0);
    return b > a ? [a, b] : null;
  };
  const anomaly = c.anomaly ? span1(c.anomaly.start, c.anomaly.end) : null;
  if (c.anomaly && anomaly) parts.push(`<rect class="anomaly" x="${f(x(anomaly[0]))}" y="${pad.t}" width="${f(x(anomaly[1]) - x(anomaly[0]))}" height="${plotH}" fill="#f8d7da" opacity="0.7"><title>anomaly from ${esc(fmtTime(c.anomaly.start))}</title></rect>`);
  const verifying = c.verification ? span1(c.verification.start, c.verification.end) : null;
  if (c.verification && verifying) parts.push(`<rect class="verification" x="${f(x(verifying[0]))}" y="${pad.t}" width="${f(x(verifying[1]) - x(verifying[0]))}" height="${plotH}" fill="#d1f2dc" opacity="0.6"><title>verification from ${esc(fmtTime(c.verification.start))}</title></rect>`);
  const band = (c.band ?? []).filter((b) => b.t >= t0 && b.t <= t1 && Number.isFinite(b.lo) && Number.isFinite(b.hi));
  if (band.length >= 2) {
    const upper = band.map((b) => `${f(x(b.t))},${f(y(b.hi))}`);
    const lower = [...band].reverse().map((b) => `${f(x(b.t))},${f(y(b.lo))}`);
    parts.push(`<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="#8896a6" opacity="0.18"><title>expected band</title></polygon>`);
  }
  for (const [bound, v] of [['above', c.bounds?.above], ['below', c.bounds?.below]] as const) {
    if (finite(v)) parts.push(`<line class="bound" x1="${pad.l}" x2="${width - pad.r}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#a61b14" stroke-dasharray="6 3"><title>threshold: anomalous ${bound} ${esc(fmtTick(v))}</title></line>`);
  }
  if (finite(c.expected)) {
    parts.push(`<line class="expected" x1="${pad.l}" x2="${width - pad.r}" y1="${f(y(c.expected))}" y2="${f(y(c.expected))}" stroke="#8896a6" stroke-dasharray="4 4"/>`);
  }
  parts.push(...markers(c).filter((m) => m.at >= t0 && m.at <= t1).reduce<{ row: number; lastX: number; out: string[] }>(
    (acc, m) => {
      // Labels closer than this many pixels to the previous one drop to the other row of the band.
      const row = x(m.at) - acc.lastX < 150 ? 1 - acc.row : 0;
      const labelY = row === 0 ? 14 : 28;
      // A label near the right edge goes to the left of its line, so it is not cut off.
      const nearRight = x(m.at) > width - pad.r - 140;
      acc.out.push(`<g class="${m.cls}" data-id="${esc(m.id)}"><line x1="${f(x(m.at))}" x2="${f(x(m.at))}" y1="${labelY - 10}" y2="${height - pad.b}" stroke="${m.colour}" stroke-width="2"${m.dash ? ' stroke-dasharray="3 2"' : ''}/><text class="${m.cls === 'step' || m.cls === 'step failed' ? 'step-label' : 'deploy-label'}" x="${f(x(m.at) + (nearRight ? -4 : 4))}" y="${labelY}" font-size="11" fill="${m.colour}"${nearRight ? ' text-anchor="end"' : ''}>${esc(m.label)}</text><title>${esc(m.title)}</title></g>`);
      return { row, lastX: x(m.at), out: acc.out };
    },
    { row: 0, lastX: -Infinity, out: [] },
  ).out);
  const unit = c.unit ? `<text class="unit" transform="translate(12 ${f(pad.t + plotH / 2)}) rotate(-90)" font-size="11" fill="${INK}" text-anchor="middle">${esc(c.unit)}</text>` : '';
  return `<svg role="img" aria-label="${esc(c.title)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg"><rect x="${pad.l}" y="${pad.t}" width="${plotW}" height="${plotH}" fill="#fbfcfd" stroke="#e3e6ea"/>${parts.join('')}<path class="data" d="${path}" fill="none" stroke="#1f6feb" stroke-width="1.6"/>${unit}</svg>`;
}

/** Deployments and executed steps, in time order, as the top band labels them. */
function markers(c: ChartInput): Marker[] {
  const deploys = c.deployments.map((d): Marker => {
    const suspect = c.suspectId === undefined || c.suspectId === null ? true : d.id === c.suspectId;
    const named = suspect && Boolean(c.suspectId);
    return { at: d.at, colour: suspect ? '#6f42c1' : '#8896a6', cls: named ? 'deployment suspect' : 'deployment', id: d.id, label: `${named ? 'suspect deploy' : 'deploy'} ${d.id.slice(0, 8)}`, title: `deployment ${d.id} at ${fmtTime(d.at)}`, dash: false };
  });
  const steps = (c.steps ?? []).map((s): Marker => ({ at: s.at, colour: s.ok ? '#0c7a3a' : '#a61b14', cls: s.ok ? 'step' : 'step failed', id: s.label, label: s.label, title: `${s.label} at ${fmtTime(s.at)}`, dash: true }));
  return [...deploys, ...steps].sort((a, b) => a.at - b.at);
}
