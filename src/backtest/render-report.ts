import { iso } from '../core/time.js';
import type { BacktestPlan } from './run-backtest.js';
import type { BacktestReport } from './report.js';

const cost = (n: number): string => (n > 0 && n < 0.0001 ? 'under $0.0001' : `about $${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`);
const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The budget shown before a backtest reads anything. Pure. */
export function renderPlan(plan: BacktestPlan): string {
  const m = plan.metrics;
  const lines = [
    'The backtest will make only read calls:',
    `  CloudWatch GetMetricData: ${count(m.calls.length, 'call')}, ${count(m.metricsRequested, 'metric')} requested, ${cost(m.usd)}`,
    `  CodePipeline: ListPipelineExecutions for ${count(plan.pipelines, 'pipeline')} (100 executions a page), GetPipelineExecution per execution`,
    `  Logs Insights: at most ${plan.maxLogQueries} queries (evidence for the incidents it finds)`,
    `  then ${plan.cycles} replayed poll cycles, in memory: nothing is notified, nothing can run`,
  ];
  for (const b of m.beyondRetention) lines.push(`  note: ${b.id} (period ${b.periodSec}s) is kept ${b.keptDays} days by CloudWatch; older data comes back empty`);
  return lines.join('\n');
}

/** The report as a person reads it. Pure. */
export function renderReport(r: BacktestReport): string {
  const out: string[] = [];
  out.push(`Backtest ${iso(r.from)} → ${iso(r.to)} (${r.metricDays.toFixed(1)} metric-days)`);
  out.push(`Incidents that would have opened: ${r.incidents.length} (${r.incidents.filter((i) => i.proposed).length} proposed for approval)`);
  for (const i of r.incidents) {
    out.push(`- ${i.id}  ${i.service}  onset ${iso(i.onsetAt)}  [${i.state}]  metrics: ${i.metrics.join(', ')}`);
    if (i.suspect) {
      out.push(`    suspect: ${i.suspect.pipeline} ${i.suspect.executionId}${i.suspect.revision ? ` (revision ${i.suspect.revision})` : ''}, score ${i.suspect.score.toFixed(2)}`);
      for (const why of i.suspect.reasons) out.push(`      - ${why}`);
    } else out.push(`    no suspect: ${i.verdict}`);
    if (i.runbook) out.push(`    runbook: ${i.runbook}`);
  }
  out.push('', 'Per metric (likely false = cleared by itself, or no deployment explains it):');
  for (const m of r.noise) out.push(`  ${m.id.padEnd(32)} ${String(m.incidents).padStart(4)} incidents, ${m.selfCleared} self-cleared, ${m.unexplained} unexplained, ${m.likelyFalsePerMetricDay.toFixed(2)} likely false per day`);
  out.push(`Likely false incidents per 1,000 metric-days: ${r.likelyFalsePer1000MetricDays.toFixed(1)}`);
  if (r.suggestions.length > 0) {
    out.push('', 'Policy changes that would have quieted the noisiest metrics (replayed on their recorded data):');
    for (const s of r.suggestions) out.push(`  ${s.change}   ${s.episodesBefore} → ${s.episodesAfter} episodes, still catches ${s.explainedKept}/${s.explainedTotal} incidents with a suspect deployment`);
  } else out.push('', 'No policy change suggested: no noisy metric, or no change quiets one without missing an explained incident.');
  return out.join('\n');
}
