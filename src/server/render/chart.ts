import { esc, fmtTime } from './html.js';

export interface ChartInput {
  readonly title: string;
  readonly points: readonly { readonly t: number; readonly v: number }[];
  /** The anomaly window: onset to cleared (or now). */
  readonly anomaly: { readonly start: number; readonly end: number } | null;
  readonly deployments: readonly { readonly id: string; readonly at: number }[];
  readonly expected?: number;
  /** The suspect deployment: drawn in purple; other deployments in grey. */
  readonly suspectId?: string | null;
}

/** An inline SVG line chart with the anomaly window shaded and deployments marked. Pure. */
export function renderChart(c: ChartInput, width = 960, height = 220): string {
  if (c.points.length < 2) return `<p class="muted">No datapoints to chart for ${esc(c.title)}.</p>`;
  // The top band holds the deployment labels, so no label is ever drawn over the data line.
  const pad = { l: 56, r: 12, t: 36, b: 28 };
  const t0 = c.points[0]?.t ?? 0;
  const t1 = c.points[c.points.length - 1]?.t ?? 1;
  const vs = c.points.map((p) => p.v);
  const lo = Math.min(...vs, c.expected ?? Infinity);
  const hi = Math.max(...vs, c.expected ?? -Infinity);
  const span = hi - lo || 1;
  const x = (t: number): number => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (width - pad.l - pad.r);
  const y = (v: number): number => pad.t + (1 - (v - lo) / span) * (height - pad.t - pad.b);
  const path = c.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const parts: string[] = [];
  if (c.anomaly) {
    const a = Math.max(t0, c.anomaly.start);
    const b = Math.min(t1, c.anomaly.end);
    if (b > a) parts.push(`<rect class="anomaly" x="${x(a).toFixed(1)}" y="${pad.t}" width="${(x(b) - x(a)).toFixed(1)}" height="${height - pad.t - pad.b}" fill="#f8d7da" opacity="0.7"><title>anomaly from ${esc(fmtTime(c.anomaly.start))}</title></rect>`);
  }
  if (c.expected !== undefined && Number.isFinite(c.expected)) {
    parts.push(`<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(c.expected).toFixed(1)}" y2="${y(c.expected).toFixed(1)}" stroke="#8896a6" stroke-dasharray="4 4"/>`);
  }
  // Labels closer than this many pixels to the previous one drop to the second row of the band.
  let lastLabelX = -Infinity;
  let row = 0;
  for (const d of [...c.deployments].sort((a, b) => a.at - b.at)) {
    if (d.at < t0 || d.at > t1) continue;
    row = x(d.at) - lastLabelX < 150 ? 1 - row : 0;
    lastLabelX = x(d.at);
    const labelY = row === 0 ? 14 : 28;
    const suspect = c.suspectId === undefined || c.suspectId === null ? true : d.id === c.suspectId;
    const colour = suspect ? '#6f42c1' : '#8896a6';
    const label = suspect && c.suspectId ? 'suspect deploy' : 'deploy';
    // A label near the right edge goes to the left of its line, so it is not cut off.
    const nearRight = x(d.at) > width - pad.r - 140;
    parts.push(`<g class="deployment${suspect && c.suspectId ? ' suspect' : ''}" data-id="${esc(d.id)}"><line x1="${x(d.at).toFixed(1)}" x2="${x(d.at).toFixed(1)}" y1="${labelY - 10}" y2="${height - pad.b}" stroke="${colour}" stroke-width="2"/><text class="deploy-label" x="${(x(d.at) + (nearRight ? -4 : 4)).toFixed(1)}" y="${labelY}" font-size="11" fill="${colour}"${nearRight ? ' text-anchor="end"' : ''}>${label} ${esc(d.id.slice(0, 8))}</text><title>deployment ${esc(d.id)} at ${esc(fmtTime(d.at))}</title></g>`);
  }
  const axis = `<text x="4" y="${pad.t + 10}" font-size="11" fill="#5f6b7a">${esc(fmtNum(hi))}</text><text x="4" y="${height - pad.b}" font-size="11" fill="#5f6b7a">${esc(fmtNum(lo))}</text><text x="${pad.l}" y="${height - 8}" font-size="11" fill="#5f6b7a">${esc(fmtTime(t0))}</text><text x="${width - pad.r}" y="${height - 8}" font-size="11" fill="#5f6b7a" text-anchor="end">${esc(fmtTime(t1))}</text>`;
  return `<svg role="img" aria-label="${esc(c.title)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg"><rect x="${pad.l}" y="${pad.t}" width="${width - pad.l - pad.r}" height="${height - pad.t - pad.b}" fill="#fbfcfd" stroke="#e3e6ea"/>${parts.join('')}<path d="${path}" fill="none" stroke="#1f6feb" stroke-width="1.6"/>${axis}</svg>`;
}

const fmtNum = (v: number): string => (Math.abs(v) >= 1000 ? v.toExponential(2) : String(Math.round(v * 1000) / 1000));
