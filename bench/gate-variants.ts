/**
 * npx tsx bench/gate-variants.ts '{"name": {<INCIDENT_GATE overrides>}, ...}'
 * npx tsx bench/gate-variants.ts --noise '{<INCIDENT_GATE overrides>}' [bench:noise options, e.g. --metrics 100 --days 6]
 *
 * Compares variants of the incident gate (INCIDENT_GATE, adaptive-detector.ts) through the daemon path (daemon-replay.ts:
 * detector factory, minimum duration, grouping, policy defaults), per held-out group: each NAB category, each
 * cloud-monitoring domain and each synthetic family. Per group: false incidents outside labeled windows (and per 1,000
 * metric-days) and labeled windows recalled. The scores are unchanged by the gate, so only incidents are compared.
 *
 * Held out: the variants are fixed in advance, not fitted; for each group the variant that is best on the other groups
 * (windows recalled minus three times the false incidents, a false incident weighing three missed windows) is named, and
 * the held-out group's change against the first variant (the baseline) at that choice is printed.
 *
 * --noise runs bench/noise.ts (the whole pipeline on the synthetic estate) with the gate overridden.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INCIDENT_GATE, type IncidentGateParams } from '../src/detect/adaptive-detector.js';
import { replaySeries, summarizeReplays, type SeriesReplay } from '../src/nab/daemon-replay.js';
import { syntheticSuite } from '../src/nab/synthetic.js';
import { loadLabeledSeries } from './labeled-series.js';

const here = dirname(fileURLToPath(import.meta.url));
const defaults: IncidentGateParams = { ...INCIDENT_GATE };
const setGate = (o: Partial<IncidentGateParams>): void => {
  Object.assign(INCIDENT_GATE, defaults, o);
};

if (process.argv[2] === '--noise') {
  setGate(JSON.parse(process.argv[3] ?? '{}') as Partial<IncidentGateParams>);
  console.log(`gate: ${JSON.stringify(INCIDENT_GATE)}`);
  process.argv = [process.argv[0]!, join(here, 'noise.ts'), ...process.argv.slice(4)];
  await import('./noise.js');
} else {
  const variants = JSON.parse(process.argv[2] ?? '{"baseline":{}}') as Record<string, Partial<IncidentGateParams>>;
  const series = loadLabeledSeries();
  for (const x of syntheticSuite()) series.push({ key: `synthetic/${x.name}`, group: `synthetic/${x.family}`, ts: x.timestamps, vs: x.values, periodMs: x.periodMs, windows: x.windows });
  const groups = [...new Set(series.map((s) => s.group))];
  type Row = { fp: number; days: number; hit: number; wins: number };
  const table = new Map<string, Map<string, Row>>();
  for (const [name, o] of Object.entries(variants)) {
    setGate(o);
    const t0 = performance.now();
    const rs = series.map((s) => ({ s, r: replaySeries(s.ts, s.vs, s.periodMs, s.windows) }));
    const rows = new Map<string, Row>();
    for (const g of groups) {
      const sel: SeriesReplay[] = rs.filter((x) => x.s.group === g).map((x) => x.r);
      const sum = summarizeReplays(sel);
      rows.set(g, { fp: sum.false_incidents, days: sum.metric_days, hit: sel.reduce((n, r) => n + r.windowsHit, 0), wins: sel.reduce((n, r) => n + r.windows, 0) });
    }
    table.set(name, rows);
    const part = (prefix: string): string => {
      const s = summarizeReplays(rs.filter((x) => x.s.key.startsWith(prefix)).map((x) => x.r));
      return `${prefix} ${s.false_incidents} false = ${s.false_incidents_per_1000_metric_days.toFixed(2)}/1000 md, recall ${s.labeled_window_recall.toFixed(3)}`;
    };
    const visible = summarizeReplays(rs.filter((x) => !x.s.key.startsWith('synthetic/')).map((x) => x.r));
    console.log(`${name} ${JSON.stringify(o)}: ${part('nab/')} | ${part('cloudmon/')} | ${part('synthetic/')} | visible ${visible.false_incidents} false = ${visible.false_incidents_per_1000_metric_days.toFixed(2)}/1000 md, recall ${visible.labeled_window_recall.toFixed(3)} (${Math.round((performance.now() - t0) / 1000)} s)`);
    for (const x of rs) {
      const fp = x.r.incidents.filter((i) => !i.inWindow);
      for (const i of fp) console.log(`    false: ${x.s.key} ${new Date(i.onset).toISOString().slice(0, 16)} ${Math.round((i.last - i.onset) / 60_000)} min ${i.direction} peak ${i.peakValue.toPrecision(4)} vs ${i.expected.toPrecision(4)}`);
    }
  }
  const names = [...table.keys()];
  const utility = (r: Row): number => r.hit - 3 * r.fp;
  console.log(`\nper group: false incidents (per 1,000 metric-days) / windows hit of windows; variants ${names.join(' | ')}`);
  for (const g of groups) console.log(`  ${g.padEnd(36)} ${names.map((n) => { const r = table.get(n)!.get(g)!; return `${r.fp} (${r.days > 0 ? ((1000 * r.fp) / r.days).toFixed(1) : '-'}) / ${r.hit}/${r.wins}`; }).join(' | ')}`);
  console.log('\nleave-one-group-out (utility = windows hit - 3 x false incidents; choice made on the other groups):');
  const base = names[0]!;
  let total = 0;
  for (const g of groups) {
    const rest = (n: string): number => groups.filter((h) => h !== g).reduce((s, h) => s + utility(table.get(n)!.get(h)!), 0);
    const best = names.reduce((a, b) => (rest(b) > rest(a) ? b : a));
    const d = utility(table.get(best)!.get(g)!) - utility(table.get(base)!.get(g)!);
    total += d;
    console.log(`  held out ${g.padEnd(36)} chosen ${best.padEnd(12)} held-out utility change vs ${base}: ${d >= 0 ? '+' : ''}${d}; per variant ${names.map((n) => `${n} ${utility(table.get(n)!.get(g)!) - utility(table.get(base)!.get(g)!)}`).join(', ')}`);
  }
  console.log(`  total held-out change: ${total >= 0 ? '+' : ''}${total}`);
}
