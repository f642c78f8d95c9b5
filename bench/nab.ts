/**
 * npm run bench:nab [-- --data DIR --labels FILE] [--out DIR] [--category NAME] [--no-replay]
 *
 * By default scores two corpora in NAB's layout: NAB's visible categories (bench/nab) and the cloud monitoring data
 * (bench/cloudmon); --data/--labels score one other corpus instead. --category restricts the run to one category.
 *
 * Runs the default detector (createDetector({}), one configuration for every series) over every file, writes NAB-format
 * result CSVs (<out>/<corpus>/<detector>/<category>/<detector>_<file>.csv), scores them with src/nab (threshold
 * optimized per category, per corpus, and ONE threshold for everything), prints leave-one-group-out figures (threshold
 * optimized on the other groups), replays every series through the daemon's path (detector factory, minimum duration,
 * grouping) to count false incidents per 1,000 metric-days outside labeled windows (each one printed with what it looked
 * like, and the same figure with recall at sensitivities 0.25 / 0.5 / 0.75), measures throughput (detector
 * alone, one core) and state size, and prints one JSON object on its last line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createDetector } from '../src/detect/config.js';
import type { StreamingDetector } from '../src/detect/detector.js';
import type { EpochMs } from '../src/core/time.js';
import { PROFILE_NAMES, scoreCorpus, type ProfileName, type ScoredFile } from '../src/nab/index.js';
import { listCorpus, loadDataFile, loadWindows, type CorpusEntry, type DataFile } from '../src/nab/io.js';
import { defaultReplayConfig, describeIncident, falseAlarmBreakdown, replaySeries, summarizeReplays, type FalseAlarmSummary } from '../src/nab/daemon-replay.js';
import { leaveOneGroupOut, meanHeldOut, type GroupedFile } from '../src/nab/leave-one-out.js';
import type { Window } from '../src/nab/weights.js';
import { syntheticSuite } from '../src/nab/synthetic.js';
import { medianPeriod, runDetector } from '../src/nab/run-detector.js';
import { rowWeights, PROFILES } from '../src/nab/index.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Corpus {
  /** Short name used in group names and the JSON line (`nab`, `cloudmon`, or `custom`). */
  readonly name: string;
  readonly data: string;
  readonly labels: string;
}

interface Args {
  corpora: Corpus[];
  out: string;
  category: string | undefined;
  replay: boolean;
}

function parseArgs(argv: string[]): Args {
  let data: string | undefined;
  let labels: string | undefined;
  const opts: Args = { category: undefined, corpora: [], out: join(here, 'nab/out'), replay: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if ((a === '--data' || a === '--labels' || a === '--out' || a === '--category') && v !== undefined) {
      if (a === '--data') data = resolve(v);
      else if (a === '--labels') labels = resolve(v);
      else if (a === '--out') opts.out = resolve(v);
      else opts.category = v;
      i++;
    } else if (a === '--no-replay') opts.replay = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench:nab -- [--data DIR --labels FILE] [--out DIR] [--category NAME] [--no-replay]');
      console.log('default: NAB visible categories (bench/nab) and the cloud monitoring data (bench/cloudmon), one threshold,');
      console.log('leave-one-group-out figures, and false incidents per 1,000 metric-days through the daemon path.');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if ((data === undefined) !== (labels === undefined)) throw new Error('--data and --labels go together');
  opts.corpora =
    data !== undefined && labels !== undefined
      ? [{ name: 'custom', data, labels }]
      : [
          { name: 'nab', data: join(here, 'nab/data'), labels: join(here, 'nab/labels/combined_windows.json') },
          { name: 'cloudmon', data: join(here, 'cloudmon/data'), labels: join(here, 'cloudmon/labels/combined_windows.json') },
        ];
  return opts;
}

/** NAB README.md scoreboard (published detectors; realAWSCloudwatch/artificialWithAnomaly optimized per category). */
const PUBLISHED: Record<string, Record<string, Partial<Record<ProfileName, number>>>> = {
  numenta: {
    realAWSCloudwatch: { standard: 73.4, reward_low_FP_rate: 68.7, reward_low_FN_rate: 76.7 },
    artificialWithAnomaly: { standard: 77.8 },
    corpus58: { standard: 70.1, reward_low_FP_rate: 63.1, reward_low_FN_rate: 74.3 },
  },
  ARTime: {
    realAWSCloudwatch: { standard: 69.9, reward_low_FP_rate: 61.6, reward_low_FN_rate: 75.5 },
    artificialWithAnomaly: { standard: 70.3 },
    corpus58: { standard: 74.9, reward_low_FP_rate: 65.2, reward_low_FN_rate: 80.4 },
  },
  contextOSE: {
    realAWSCloudwatch: { standard: 72.1, reward_low_FP_rate: 67.7, reward_low_FN_rate: 75.8 },
    artificialWithAnomaly: { standard: 73.9 },
    corpus58: { standard: 69.9, reward_low_FP_rate: 67.0, reward_low_FN_rate: 73.2 },
  },
  htmjava: { realAWSCloudwatch: { standard: 68.8 }, artificialWithAnomaly: { standard: 75.1 }, corpus58: { standard: 65.5 } },
  randomCutForest: {
    realAWSCloudwatch: { standard: 61.4, reward_low_FP_rate: 50.7, reward_low_FN_rate: 67.6 },
    artificialWithAnomaly: { standard: 44.6 },
    corpus58: { standard: 51.7, reward_low_FP_rate: 38.4, reward_low_FN_rate: 59.7 },
  },
  twitterADVec: {
    realAWSCloudwatch: { standard: 38.5, reward_low_FP_rate: 25.5 },
    artificialWithAnomaly: { standard: 76.7 },
    corpus58: { standard: 47.1, reward_low_FP_rate: 33.6 },
  },
  windowedGaussian: { realAWSCloudwatch: { standard: 31.2 }, artificialWithAnomaly: { standard: 8.0 }, corpus58: { standard: 39.6 } },
};

/** Sensitivities of the false-alarm curve (the policy default 0.5 among them). */
const SWEEP = [0.25, 0.5, 0.75] as const;

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

type Series = { e: CorpusEntry; corpus: string; d: DataFile; period: number };
type Scored = GroupedFile & { category: string };

/** Prints one row per category of a corpus (threshold optimized per category) and its corpus row. */
function reportCorpus(c: Corpus, scored: readonly Scored[]): Record<string, Record<string, number>> {
  const categories = [...new Set(scored.map((s) => s.category))];
  const corpus = Object.fromEntries(PROFILE_NAMES.map((p) => [p, scoreCorpus(scored, p)])) as Record<ProfileName, ReturnType<typeof scoreCorpus>>;
  const jsonCats: Record<string, Record<string, number>> = {};
  const rows: string[][] = [];
  const pad = (s: string, n: number): string => s.padEnd(n);
  for (const cat of categories) {
    const files = scored.filter((s) => s.category === cat);
    const wc = files.reduce((n, f) => n + f.windows.length, 0);
    if (wc === 0) {
      // No windows: normalization is undefined; report the raw standard score at the corpus-optimized threshold
      // (optimizing on this category alone would trivially choose "detect nothing").
      const r = scoreCorpus(files, 'standard', corpus.standard.threshold);
      jsonCats[cat] = { raw_standard: round(r.raw, 4) };
      rows.push([cat, `raw ${round(r.raw, 3)} (FP rows ${r.fp}) at corpus θ=${round(r.threshold, 4)}`]);
      continue;
    }
    const res = Object.fromEntries(PROFILE_NAMES.map((p) => [p, scoreCorpus(files, p)])) as typeof corpus;
    const atCorpus = scoreCorpus(files, 'standard', corpus.standard.threshold).normalized ?? NaN;
    jsonCats[cat] = { ...Object.fromEntries(PROFILE_NAMES.map((p) => [p, round(res[p].normalized ?? NaN)])), standard_at_corpus_threshold: round(atCorpus) };
    const cells = PROFILE_NAMES.map((p) => `${round(res[p].normalized ?? NaN, 1)}`);
    const pub = Object.entries(PUBLISHED)
      .map(([det, t]) => [det, t[cat]?.standard] as const)
      .filter(([, v]) => v !== undefined)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([det, v]) => `${det} ${v}`)
      .join(', ');
    rows.push([cat, `${cells.join(' / ')}   (θ std=${round(res.standard.threshold, 4)}, TP windows ${countDetectedWindows(files, res.standard.threshold)}/${wc}, FP rows ${res.standard.fp}; ${round(atCorpus, 1)} at corpus θ)`, pub]);
  }
  const corpusCells = PROFILE_NAMES.map((p) => `${round(corpus[p].normalized ?? NaN, 1)}`);
  const pubCorpus = c.name === 'nab' ? 'published corpus figures are over all 58 NAB files: ' + Object.entries(PUBLISHED).map(([d, t]) => `${d} ${t.corpus58?.standard}`).join(', ') : '';
  rows.push([`corpus (${scored.length} files)`, `${corpusCells.join(' / ')}   (one θ std=${round(corpus.standard.threshold, 4)})`, pubCorpus]);
  console.log(`\n${c.name}: ${c.data}`);
  for (const r of rows) console.log(`${pad(r[0] ?? '', 26)} ${pad(r[1] ?? '', 96)} ${r[2] ? `| published std: ${r[2]}` : ''}`);
  jsonCats.corpus = Object.fromEntries(PROFILE_NAMES.map((p) => [p, round(corpus[p].normalized ?? NaN)]));
  return jsonCats;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const series: Series[] = [];
  const windows = new Map<string, Map<string, Window[]>>();
  for (const c of args.corpora) {
    windows.set(c.name, loadWindows(c.labels));
    const entries = listCorpus(c.data).filter((e) => args.category === undefined || e.category === args.category);
    for (const e of entries) {
      const d = loadDataFile(e.path);
      series.push({ e, corpus: c.name, d, period: medianPeriod(d.timestamps) });
    }
  }
  if (series.length === 0) throw new Error(`no <category>/<file>.csv${args.category ? ` in category ${args.category}` : ''} under ${args.corpora.map((c) => c.data).join(', ')}`);

  const make = (period: number): StreamingDetector => createDetector({}, period);
  const name = make(300_000).name;
  if (name.includes('_')) throw new Error(`detector name "${name}" must not contain "_"`);

  // 1. Run, write result files (NAB format, one directory per corpus).
  const scored: Scored[] = [];
  let stateBytes = 0;
  for (const { e, corpus, d, period } of series) {
    const w = windows.get(corpus)?.get(e.key);
    if (w === undefined) throw new Error(`${e.key} has no entry in the labels of ${corpus}`);
    const run = runDetector(make(period), d.timestamps, d.values);
    stateBytes = Math.max(stateBytes, run.stateBytes);
    scored.push({ key: `${corpus}/${e.key}`, group: `${corpus}/${e.category}`, category: e.category, timestamps: d.timestamps, windows: w, scores: run.scores });
    const { labels } = rowWeights(d.timestamps, w, PROFILES.standard);
    const lines = ['timestamp,value,anomaly_score,label'];
    for (let i = 0; i < d.values.length; i++) {
      const v = d.values[i] as number;
      lines.push(`${d.timestampText[i]},${Number.isNaN(v) ? '' : v},${run.scores[i]},${(labels[i] as number) >= 0 ? 1 : 0}`);
    }
    const dir = join(args.out, corpus, name, e.category);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}_${e.name}.csv`), lines.join('\n') + '\n');
  }

  // 2. Score each corpus (threshold optimized per category and per corpus), then everything with ONE threshold,
  // then leave-one-group-out (threshold optimized on the other groups).
  console.log(`\nNAB scores of detector "${name}": standard / reward_low_FP_rate / reward_low_FN_rate, normalized`);
  const jsonCorpora: Record<string, Record<string, Record<string, number>>> = {};
  for (const c of args.corpora) jsonCorpora[c.name] = reportCorpus(c, scored.filter((s) => s.key.startsWith(`${c.name}/`)));
  const one = scoreCorpus(scored, 'standard');
  const atOne = Object.fromEntries(args.corpora.map((c) => [c.name, round(scoreCorpus(scored.filter((s) => s.key.startsWith(`${c.name}/`)), 'standard', one.threshold).normalized ?? NaN)]));
  console.log(`\none threshold for all ${scored.length} files: θ=${round(one.threshold, 4)}, standard ${round(one.normalized ?? NaN, 1)}; per corpus at it: ${Object.entries(atOne).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const loo = leaveOneGroupOut(scored);
  console.log('\nleave-one-group-out (standard; θ optimized on every other group, then the held-out group scored at it):');
  for (const r of loo) console.log(`  ${r.group.padEnd(40)} held out ${round(r.heldOut, 1).toString().padStart(6)} at θ=${round(r.threshold, 4)}   (own optimum ${round(r.own, 1)} at θ=${round(r.ownThreshold, 4)})`);
  const looMean = meanHeldOut(loo);
  console.log(`  mean held-out ${round(looMean, 1)}; own-optimum thresholds range ${round(Math.min(...loo.map((r) => r.ownThreshold)), 3)}–${round(Math.max(...loo.map((r) => r.ownThreshold)), 3)}`);
  console.log('\npublished realAWSCloudwatch (standard / low FP / low FN):');
  for (const [det, t] of Object.entries(PUBLISHED)) {
    const a = t.realAWSCloudwatch ?? {};
    console.log(`  ${det.padEnd(18)} ${PROFILE_NAMES.map((p) => a[p] ?? '–').join(' / ')}`);
  }

  // 3. Synthetic families (counters, rates, latencies, bursty, daily and weekly seasonal; 1 min, 5 min, 1 h; with and
  // without one injected anomaly): one threshold, and leave-one-family-out.
  const synth = syntheticSuite();
  const synthFiles: GroupedFile[] = synth.map((x) => ({ key: x.name, group: x.family, timestamps: x.timestamps, windows: x.windows, scores: runDetector(make(x.periodMs), x.timestamps, x.values).scores }));
  const synthOne = scoreCorpus(synthFiles, 'standard');
  const synthLoo = leaveOneGroupOut(synthFiles);
  console.log(`
synthetic families (${synth.length} series): one θ=${round(synthOne.threshold, 4)} standard ${round(synthOne.normalized ?? NaN, 1)}; leave-one-family-out: ${synthLoo.map((r) => `${r.group} ${round(r.heldOut, 1)}`).join(', ')} (mean ${round(meanHeldOut(synthLoo), 1)})`);

  // 4. False incidents through the daemon's path (detector factory, minimum duration, grouping; policy defaults).
  let alarms: FalseAlarmSummary | undefined;
  let synthAlarms: FalseAlarmSummary | undefined;
  let curve: { sensitivity: number; false_incidents_per_1000_metric_days: number; labeled_window_recall: number }[] = [];
  if (args.replay) {
    const replays = series.map(({ e, corpus, d, period }) => ({ corpus, key: `${corpus}/${e.key}`, periodMs: period, r: replaySeries(d.timestamps, d.values, period, windows.get(corpus)?.get(e.key) ?? []) }));
    alarms = summarizeReplays(replays.map((x) => x.r));
    console.log('\ndaemon path (default policy: detector factory, minimum duration, grouping), outside labeled windows:');
    for (const c of args.corpora) {
      const s = summarizeReplays(replays.filter((x) => x.corpus === c.name).map((x) => x.r));
      console.log(`  ${c.name.padEnd(10)} ${s.false_incidents} false incidents in ${round(s.metric_days, 1)} metric-days = ${round(s.false_incidents_per_1000_metric_days, 1)} per 1,000; labeled windows recalled ${round(s.labeled_window_recall * 100, 1)} %`);
    }
    const synReplays = synth.map((x) => ({ key: `synthetic/${x.name}`, r: replaySeries(x.timestamps, x.values, x.periodMs, x.windows) }));
    const syn = summarizeReplays(synReplays.map((x) => x.r));
    synthAlarms = syn;
    console.log(`  synthetic  ${syn.false_incidents} false incidents in ${round(syn.metric_days, 1)} metric-days = ${round(syn.false_incidents_per_1000_metric_days, 1)} per 1,000; labeled windows recalled ${round(syn.labeled_window_recall * 100, 1)} %`);
    console.log(`  visible    ${alarms.false_incidents} false incidents in ${round(alarms.metric_days, 1)} metric-days = ${round(alarms.false_incidents_per_1000_metric_days, 1)} per 1,000; labeled windows recalled ${round(alarms.labeled_window_recall * 100, 1)} %`);
    console.log('  top metrics by false incidents (kinds by duration: point = one sample, burst < 1 h, long >= 1 h):');
    for (const m of falseAlarmBreakdown(replays)) console.log(`    ${m.key.padEnd(60)} ${m.false_incidents} (re-opened ${m.reopened}), median ${m.median_minutes} min; point ${m.kinds.point} / burst ${m.kinds.burst} / long ${m.kinds.long}`);
    console.log('  every false incident, synthetic ones last (onset, minutes to the last anomalous point, peak against expected, what it looked like):');
    for (const { key, r } of [...replays, ...synReplays]) {
      for (const x of r.incidents.filter((i) => !i.inWindow)) {
        const iso = new Date(x.onset).toISOString().slice(0, 16).replace('T', ' ');
        console.log(`    ${key.padEnd(60)} ${iso} ${Math.round((x.last - x.onset) / 60_000)} min ${x.direction} peak ${x.peakValue.toPrecision(4)} vs ${x.expected.toPrecision(4)}; ${describeIncident(x)}`);
      }
    }
    // The trade-off at other sensitivities (visible data, the same path): what ≤ 1 per 1,000 metric-days would cost.
    const base = defaultReplayConfig();
    curve = SWEEP.map((sensitivity) => {
      const cfg = { ...base, detector: { ...base.detector, sensitivity } };
      const s = sensitivity === base.detector.sensitivity ? alarms! : summarizeReplays(series.map(({ e, corpus, d, period }) => replaySeries(d.timestamps, d.values, period, windows.get(corpus)?.get(e.key) ?? [], cfg)));
      return { sensitivity, false_incidents_per_1000_metric_days: round(s.false_incidents_per_1000_metric_days), labeled_window_recall: round(s.labeled_window_recall, 3) };
    });
    console.log(`  by sensitivity (visible): ${curve.map((c) => `${c.sensitivity}: ${c.false_incidents_per_1000_metric_days} per 1,000, recall ${round(c.labeled_window_recall * 100, 1)} %`).join('; ')}`);
  }

  // 5. Throughput: the detector alone (no I/O), all series, repeated until stable. Measured in CPU time of this
  // process (user + system), so other processes sharing the machine do not count against the detector; the wall-clock
  // figure is printed beside it.
  const total = series.reduce((n, s) => n + s.d.values.length, 0);
  let points = 0;
  let elapsed = 0;
  let wall = 0;
  let sink = 0;
  for (let rep = 0; elapsed < 3000 || rep < 3; rep++) {
    for (const { d, period } of series) {
      const det = make(period);
      const st = det.init();
      const ts = d.timestamps;
      const vs = d.values;
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      for (let i = 0; i < vs.length; i++) {
        const v = vs[i] as number;
        sink += det.update(st, ts[i] as EpochMs, Number.isNaN(v) ? null : v).score;
      }
      const cpu = process.cpuUsage(c0);
      elapsed += (cpu.user + cpu.system) / 1000;
      wall += performance.now() - w0;
      points += vs.length;
    }
  }
  const pointsPerSec = Math.round((points / elapsed) * 1000);
  const wallPerSec = Math.round((points / wall) * 1000);
  console.log(
    `\nthroughput: ${pointsPerSec.toLocaleString('en-US')} points/s of CPU time (${wallPerSec.toLocaleString('en-US')} points/s wall-clock on this machine now; ${points} points, ${total} per pass, one core; checksum ${round(sink, 1)})`,
  );
  console.log(`state: max ${stateBytes} bytes of JSON per series`);
  console.log(`result files: ${args.out}/<corpus>/${name}\n`);

  const out = {
    ...jsonCorpora,
    one_threshold: { threshold: round(one.threshold, 4), standard: round(one.normalized ?? NaN), ...atOne },
    leave_one_out: { ...Object.fromEntries(loo.map((r) => [r.group, round(r.heldOut)])), mean: round(looMean) },
    ...(alarms
      ? {
          false_incidents_per_1000_metric_days: round(alarms.false_incidents_per_1000_metric_days),
          labeled_window_recall: round(alarms.labeled_window_recall, 3),
          false_incidents: alarms.false_incidents,
          metric_days: round(alarms.metric_days, 1),
          false_alarm_curve: curve,
        }
      : {}),
    synthetic: {
      standard: round(synthOne.normalized ?? NaN),
      leave_one_out_mean: round(meanHeldOut(synthLoo)),
      ...(synthAlarms ? { false_incidents_per_1000_metric_days: round(synthAlarms.false_incidents_per_1000_metric_days), labeled_window_recall: round(synthAlarms.labeled_window_recall, 3) } : {}),
    },
    points_per_sec: pointsPerSec,
    state_bytes_per_series: stateBytes,
  };
  console.log(JSON.stringify(out));
}

function countDetectedWindows(files: readonly ScoredFile[], threshold: number): number {
  let n = 0;
  for (const f of files) {
    const { labels } = rowWeights(f.timestamps, f.windows, PROFILES.standard);
    const hit = new Set<number>();
    for (let i = 0; i < labels.length; i++) if ((labels[i] as number) >= 0 && (f.scores[i] as number) >= threshold) hit.add(labels[i] as number);
    n += hit.size;
  }
  return n;
}

main();
