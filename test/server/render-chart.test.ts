import { describe, expect, it } from 'vitest';
import { epochMs, MINUTE, type EpochMs } from '../../src/core/time.js';
import type { ChartSeries, Incident, Signal } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { timeTicks, valueTicks } from '../../src/server/render/chart-axes.js';
import { renderChart } from '../../src/server/render/chart.js';
import { renderChartFigures } from '../../src/server/render/chart-section.js';

const T0 = epochMs(Date.parse('2026-11-02T08:00:00Z'));
const at = (min: number): EpochMs => epochMs(T0 + min * MINUTE);
const signal = (metricId: string, metricName: string, expected: number): Signal => ({ metricId, metricName, direction: 'up', startedAt: at(20), lastAnomalousAt: at(30), clearedAt: at(34), peakScore: 9, peakValue: 50, expected });
/** Bad from minute 20 to the step at minute 30, healthy after it. */
const series = (metricId: string, metricName: string, extra: Partial<ChartSeries> = {}): ChartSeries => ({ metricId, metricName, unit: 'Count', stat: 'Sum', periodSec: 60, points: Array.from({ length: 41 }, (_, n) => ({ t: at(n), v: n >= 20 && n < 31 ? 50 : 3 })), ...extra });

/** A resolved incident: two signal metrics, the suspect deploy at 19, one rollback step at 30, verified 31..36. */
function resolved(chartSeries: ChartSeries[]): Incident {
  const inc = newIncident('checkout-1', 'checkout', [signal('m5xx', 'HTTPCode_Target_5XX_Count', 3), signal('lat', 'TargetResponseTime', 0.2)], at(22));
  inc.state = 'resolved';
  inc.updatedAt = at(36);
  inc.steps = [{ index: 0, action: 'codepipeline.rollback', idempotencyKey: 'k', status: 'succeeded', startedAt: at(30), endedAt: at(31), summary: 'rolled back' }];
  inc.verification = { startedAt: at(31), deadline: at(45), healthyPolls: 3 };
  inc.chart = { metricId: 'm5xx', metricName: 'HTTPCode_Target_5XX_Count', points: chartSeries[0]?.points.slice(0, 25) ?? [], deployments: [{ id: 'deadbeef-1', at: at(19) }], series: chartSeries, refreshedAt: at(40) };
  return inc;
}

const xs = (svg: string): number[] => [...(/<path class="data" d="([^"]+)"/.exec(svg)?.[1] ?? '').matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));

describe('the incident chart: small multiples after recovery (issue 15 item 11)', () => {
  it('draws one chart per signal metric, on one shared time axis', () => {
    const html = renderChartFigures(resolved([series('m5xx', 'HTTPCode_Target_5XX_Count'), { ...series('lat', 'TargetResponseTime'), points: series('lat', 'x').points.slice(10) }]), at(50));
    const figures = [...html.matchAll(/<figure class="chart" data-metric="([^"]+)"/g)].map((m) => m[1]);
    expect(figures).toEqual(['m5xx', 'lat']);
    expect(html.match(/<svg /g)).toHaveLength(2);
    // The shorter series starts further right: same axis, not stretched to its own range.
    const [first, second] = html.split('<figure').slice(1).map(xs);
    expect(Math.min(...(second ?? []))).toBeGreaterThan(Math.min(...(first ?? [])) + 100);
  });

  it('marks the executed step and shows the recovery points after it, with the verification window', () => {
    const html = renderChartFigures(resolved([series('m5xx', 'HTTPCode_Target_5XX_Count')]), at(50));
    const step = /<g class="step" data-id="step 1 codepipeline.rollback"><line x1="([\d.]+)"/.exec(html);
    expect(step).not.toBeNull();
    const stepX = Number(step?.[1]);
    const after = xs(html).filter((x) => x > stepX);
    expect(after.length).toBeGreaterThanOrEqual(9);
    expect(html).toContain('<rect class="verification"');
    expect(html).toContain('<strong>HTTPCode_Target_5XX_Count</strong> (Count) · Sum per 1 min');
    expect(html).toContain('Points read until 2026-11-02 08:40:00Z, after the steps ran.');
  });

  it('a shadow-mode step that did not run is not marked', () => {
    const inc = resolved([series('m5xx', 'HTTPCode_Target_5XX_Count')]);
    inc.steps = inc.steps.map((s) => ({ ...s, status: 'would_have_run' as const }));
    expect(renderChartFigures(inc, at(50))).not.toContain('class="step');
  });

  it('says when no band is drawn, and draws one only from the detector: CloudWatch band or static bounds', () => {
    const none = renderChartFigures(resolved([series('m5xx', 'HTTPCode_Target_5XX_Count')]), at(50));
    expect(none).toContain('the detector&#39;s expected value at the peak (3); it reports no spread, so no band is drawn');
    expect(none).not.toContain('<polygon');
    const band = renderChartFigures(resolved([series('m5xx', 'x', { band: Array.from({ length: 41 }, (_, n) => ({ t: at(n), lo: 1, hi: 6 })) })]), at(50));
    expect(band).toContain('<polygon class="band"');
    expect(band).toContain('CloudWatch&#39;s expected range');
    const bounds = renderChartFigures(resolved([series('m5xx', 'x', { bounds: { above: 20 } })]), at(50));
    expect(bounds).toContain('<line class="bound"');
    expect(bounds).toContain('the static threshold (anomalous above 20)');
  });

  it('an incident charted before series existed still renders its drafted points', () => {
    const inc = resolved([series('m5xx', 'HTTPCode_Target_5XX_Count')]);
    if (!inc.chart) throw new Error('no chart');
    delete inc.chart.series;
    delete inc.chart.refreshedAt;
    const html = renderChartFigures(inc, at(50));
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html).toContain('Points as read when the runbook was drafted.');
  });
});

describe('chart axes (pure)', () => {
  it('gridlines at round values with the unit on the value axis, and clock-time gridlines', () => {
    const svg = renderChart({ title: 'm', unit: 'Milliseconds', points: series('m', 'm').points, anomaly: null, deployments: [] });
    expect(svg).toContain('>Milliseconds</text>');
    expect(svg.match(/class="grid-y"/g)?.length).toBeGreaterThanOrEqual(3);
    expect(svg).toContain('>08:10</text>');
    expect(valueTicks(3, 50)).toEqual([10, 20, 30, 40, 50]);
    expect(valueTicks(0.12, 0.31)).toEqual([0.15, 0.2, 0.25, 0.3]);
    expect(timeTicks(at(0), at(40)).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['08:00', '08:10', '08:20', '08:30', '08:40']);
  });
});
