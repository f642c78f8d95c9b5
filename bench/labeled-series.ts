/**
 * The visible labeled series the variant benches compare on: NAB's visible categories (bench/nab) and the cloud
 * monitoring data (bench/cloudmon), each keyed `<corpus>/<file key>` and grouped by `<corpus>/<category>`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCorpus, loadDataFile, loadWindows } from '../src/nab/io.js';
import { medianPeriod } from '../src/nab/run-detector.js';
import type { Window } from '../src/nab/weights.js';

export interface LabeledSeries {
  readonly key: string;
  readonly group: string;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly periodMs: number;
  readonly windows: readonly Window[];
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadLabeledSeries(): LabeledSeries[] {
  const out: LabeledSeries[] = [];
  for (const name of ['nab', 'cloudmon'] as const) {
    const windows = loadWindows(join(here, name, 'labels/combined_windows.json'));
    for (const e of listCorpus(join(here, name, 'data'))) {
      const d = loadDataFile(e.path);
      out.push({ key: `${name}/${e.key}`, group: `${name}/${e.category}`, ts: d.timestamps, vs: d.values, periodMs: medianPeriod(d.timestamps), windows: windows.get(e.key) ?? [] });
    }
  }
  return out;
}
