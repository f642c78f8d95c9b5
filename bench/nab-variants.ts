/**
 * npx tsx bench/nab-variants.ts '{"name": {<NoveltyParams overrides>, "rateExponent"?: number}, ...}'
 *
 * Compares variants of the default detector's parameters on the figures that say whether one threshold means the same
 * across kinds of series, without the daemon replay or throughput of bench:nab (about 20 s a variant): the one-threshold
 * standard score over NAB's visible categories and the cloud monitoring data, each corpus at its own optimum, NAB
 * realAWSCloudwatch (standard / reward_low_FP_rate), leave-one-group-out (threshold chosen on the other groups) and
 * leave-one-family-out over the synthetic families. A variant is kept only if the held-out figures improve; the
 * parameters are never chosen on one file. Without an argument it measures the defaults.
 */
import { adaptiveDetector, RATE_EXPONENT, REFERENCE_PERIOD_MS } from '../src/detect/adaptive-detector.js';
import { detectorConfigSchema } from '../src/detect/config.js';
import { DEFAULT_NOVELTY, type NoveltyParams } from '../src/detect/novelty-core.js';
import { scoreCorpus } from '../src/nab/index.js';
import { leaveOneGroupOut, meanHeldOut, type GroupedFile } from '../src/nab/leave-one-out.js';
import { syntheticSuite } from '../src/nab/synthetic.js';
import { runDetector } from '../src/nab/run-detector.js';
import { loadLabeledSeries } from './labeled-series.js';

type Variant = Partial<NoveltyParams> & { rateExponent?: number; seasonality?: 'none' | 'daily' | 'weekly' | 'auto' };
const variants = JSON.parse(process.argv[2] ?? '{"defaults":{}}') as Record<string, Variant>;
const series = loadLabeledSeries();
const synth = syntheticSuite();
const r1 = (x: number | null): number => Math.round((x ?? NaN) * 10) / 10;
for (const [name, { rateExponent, seasonality, ...overrides }] of Object.entries(variants)) {
  const config = detectorConfigSchema.parse(seasonality ? { seasonality } : {});
  const base: NoveltyParams = { ...DEFAULT_NOVELTY, ...overrides };
  // adaptiveDetector adds RATE_EXPONENT·ln(reference / period) to lnRate; a variant exponent adds the difference.
  const extra = (rateExponent ?? RATE_EXPONENT) - RATE_EXPONENT;
  const make = (p: number) => adaptiveDetector(config, p, { ...base, lnRate: base.lnRate + extra * Math.log(REFERENCE_PERIOD_MS / p) });
  const files: GroupedFile[] = series.map((s) => ({ key: s.key, group: s.group, timestamps: s.ts, windows: s.windows, scores: runDetector(make(s.periodMs), s.ts, s.vs).scores }));
  const of = (prefix: string): GroupedFile[] => files.filter((f) => f.key.startsWith(prefix) || f.group === prefix);
  const one = scoreCorpus(files, 'standard');
  const loo = leaveOneGroupOut(files);
  const synthFiles: GroupedFile[] = synth.map((x) => ({ key: x.name, group: x.family, timestamps: x.timestamps, windows: x.windows, scores: runDetector(make(x.periodMs), x.timestamps, x.values).scores }));
  const synthLoo = leaveOneGroupOut(synthFiles);
  const aws = of('nab/realAWSCloudwatch');
  console.log(
    `${name}: one θ=${one.threshold.toFixed(3)} ${r1(one.normalized)} | nab ${r1(scoreCorpus(of('nab/'), 'standard').normalized)} cloudmon ${r1(scoreCorpus(of('cloudmon/'), 'standard').normalized)} | realAWS ${r1(scoreCorpus(aws, 'standard').normalized)} / ${r1(scoreCorpus(aws, 'reward_low_FP_rate').normalized)}` +
      ` | leave-one-group-out ${r1(meanHeldOut(loo))} [${loo.map((r) => `${r.group} ${r1(r.heldOut)}`).join(', ')}] | synthetic leave-one-family-out ${r1(meanHeldOut(synthLoo))} [${synthLoo.map((r) => `${r.group} ${r1(r.heldOut)}`).join(', ')}]`,
  );
}
