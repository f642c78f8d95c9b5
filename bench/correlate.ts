/**
 * npm run bench:correlate [-- --scenarios DIR] [--only REGEX] [--detector rollingz]
 *
 * Plays every scenario of the suite on the simulated cloud with a manual clock, compares the incidents
 * with each scenario's ground truth, prints a table, then one JSON line:
 * {"scenarios","top1","false_blame","incidents_per_true","median_onset_to_proposal_s"}.
 */
import { parseArgs } from 'node:util';
import type { StreamingDetector } from '../src/detect/detector.js';
import { rollingZScore } from '../src/detect/rolling-zscore.js';
import type { WatchedMetric } from '../src/policy/compile.js';
import { DEFAULT_SUITE, runSuite } from './correlate/suite.js';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: DEFAULT_SUITE },
    only: { type: 'string' },
    detector: { type: 'string' },
  },
});

/** The skeleton's robust z-score, to check that the rules do not depend on one detector's quirks. */
const rollingz = (m: WatchedMetric): StreamingDetector =>
  rollingZScore({ window: 60, threshold: 4.5, direction: m.detector.direction, warmup: Math.min(m.detector.warmup, 60) });

const started = performance.now();
const { outcomes, summary } = await runSuite(values.scenarios, {
  ...(values.only ? { only: new RegExp(values.only) } : {}),
  ...(values.detector === 'rollingz' ? { detectorFor: rollingz } : {}),
});

const pad = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n));
console.log(`${pad('scenario', 34)} ${pad('service', 10)} ${pad('true cause', 26)} ${pad('blamed', 26)} ${pad('ok', 3)} ${pad('incidents', 9)} onset→proposal`);
for (const o of outcomes) {
  const rows = o.truths.length > 0 ? o.truths : [null];
  for (const t of rows) {
    console.log(
      `${pad(o.name, 34)} ${pad(t?.service ?? '-', 10)} ${pad(t ? `${t.optional ? '(or none) ' : ''}${t.cause}` : '(no incident)', 26)} ${pad(t ? (t.blamed ?? 'missed') : '-', 26)} ${pad(t ? (t.correct ? 'ok' : t.optional && t.incidentId === null ? '-' : 'X') : '', 3)} ${pad(String(o.incidentsOpened), 9)} ${t?.onsetToProposalS ?? '-'}`,
    );
  }
  for (const s of o.spurious) console.log(`${pad('', 34)} ${pad(s.service, 10)} ${pad('(spurious incident)', 26)} ${pad(s.blamed ?? '-', 26)} ${pad(s.blamed && s.blamed !== 'none' ? 'X' : '', 3)}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
if (outcomes.every((o) => o.incidentsOpened === 0)) {
  // Correlation cannot be scored when detection opened nothing at all: say so instead of only printing zeros.
  console.error('bench:correlate: no scenario opened any incident — the detector flagged nothing on this suite (compare with --detector rollingz)');
}
console.log(JSON.stringify(summary));
