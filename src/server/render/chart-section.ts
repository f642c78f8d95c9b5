import type { ChartSeries, Incident, StepStatus } from '../../incident/incident.js';
import { TERMINAL_STATES } from '../../incident/lifecycle.js';
import { fmtTick } from './chart-axes.js';
import { renderChart, type ChartStep } from './chart.js';
import { esc, fmtTime } from './html.js';

/** Step outcomes that touched the service (shadow runs and previews did not: they are not marked). */
const RAN: ReadonlySet<StepStatus> = new Set(['started', 'succeeded', 'failed', 'skipped_already_done']);

/**
 * The incident's charts as small multiples: one per signal metric on a shared time axis, each with
 * its anomaly window, expected value or band, the deployments, the executed steps and the
 * verification window; the recovery shows once the verify stage refreshed the points. Pure.
 */
export function renderChartFigures(i: Incident, now: number): string {
  const c = i.chart;
  if (!c) return '';
  const series: readonly ChartSeries[] = c.series?.length ? c.series : [{ metricId: c.metricId, metricName: c.metricName, points: c.points }];
  const steps: ChartStep[] = i.steps.filter((s) => RAN.has(s.status)).map((s) => ({ label: `step ${s.index + 1} ${s.action}`, at: s.startedAt, ok: s.status !== 'failed' }));
  const ended = TERMINAL_STATES.has(i.state);
  // While open, windows run to now; once ended, to the incident's last write.
  const until = ended ? i.updatedAt : now;
  const ts = series.flatMap((s) => [s.points[0]?.t, s.points.at(-1)?.t]).filter((t): t is NonNullable<typeof t> => t !== undefined);
  const range = ts.length ? { start: Math.min(...ts), end: Math.max(...ts, ...steps.map((s) => s.at)) } : undefined;
  const v = i.verification;
  const height = series.length > 1 ? 180 : 220;
  const figures = series.map((s) => {
    const sig = i.signals.find((x) => x.metricId === s.metricId);
    const svg = renderChart(
      {
        title: s.metricName,
        points: s.points,
        anomaly: sig ? { start: sig.startedAt, end: sig.clearedAt ?? until } : null,
        deployments: c.deployments,
        suspectId: i.correlation?.suspect?.deployment.id ?? null,
        ...(axisLabel(s) ? { unit: axisLabel(s) } : {}),
        ...(s.band ? { band: s.band } : {}),
        ...(s.bounds ? { bounds: s.bounds } : {}),
        ...(sig && Number.isFinite(sig.expected) ? { expected: sig.expected } : {}),
        steps,
        ...(v ? { verification: { start: v.startedAt, end: until } } : {}),
        ...(range ? { range } : {}),
      },
      960,
      height,
    );
    return `<figure class="chart" data-metric="${esc(s.metricId)}" style="margin:0 0 8px"><figcaption><strong>${esc(s.metricName)}</strong>${s.unit ? ` (${esc(s.unit)})` : ''}${s.stat ? ` · ${esc(s.stat)}${s.periodSec ? ` per ${esc(fmtPeriod(s.periodSec))}` : ''}` : ''} <span class="muted">${esc(expectedNote(s, sig?.expected))}</span></figcaption>${svg}</figure>`;
  });
  return `${figures.join('')}<p class="muted" id="chart-freshness">${esc(freshness(i, steps.length > 0))}</p>`;
}

/** What the grey line, band or red lines are — and, when the detector gives no spread, that no band is drawn. */
function expectedNote(s: ChartSeries, expected: number | undefined): string {
  if (s.band?.length) return "Grey band: CloudWatch's expected range (anomaly band).";
  const b = s.bounds;
  if (b && (b.above !== undefined || b.below !== undefined)) {
    const sides = [b.above !== undefined ? `above ${fmtTick(b.above)}` : '', b.below !== undefined ? `below ${fmtTick(b.below)}` : ''].filter(Boolean).join(' or ');
    return `Red dashed: the static threshold (anomalous ${sides}).`;
  }
  if (expected !== undefined && Number.isFinite(expected)) return `Dashed: the detector's expected value at the peak (${fmtTick(expected)}); it reports no spread, so no band is drawn.`;
  return 'No expected value or band: the detector reported none for this metric.';
}

function freshness(i: Incident, ran: boolean): string {
  const c = i.chart;
  const at = c?.refreshedAt;
  const legend = 'Shaded red: the anomaly window; purple: the suspect deployment, grey: other deployments; green dashed: executed steps; tinted green: verification.';
  if (at === undefined) return `${legend} Points as read when the runbook was drafted.`;
  const awaiting = i.state === 'awaiting_approval' ? ' (read again every few minutes while the request waits)' : '';
  return `${legend} Points read until ${fmtTime(at)}${ran ? ', after the steps ran' : awaiting}.`;
}

/** The value axis says what a point is: its unit, else its statistic (a count per minute reads as "Sum"). */
const axisLabel = (s: ChartSeries): string | undefined => s.unit ?? s.stat;

const fmtPeriod = (sec: number): string => (sec % 3600 === 0 ? `${sec / 3600} h` : sec % 60 === 0 ? `${sec / 60} min` : `${sec} s`);
