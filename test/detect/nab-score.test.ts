import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detect/config.js';
import { scoreCorpus, type ScoredFile } from '../../src/nab/index.js';
import { listCorpus, loadDataFile, loadWindows } from '../../src/nab/io.js';
import { medianPeriod, runDetector } from '../../src/nab/run-detector.js';

const NAB = fileURLToPath(new URL('../../bench/nab', import.meta.url));

/** Regression guard for issue 4: the default configuration (one setting for every series) on NAB realAWSCloudwatch. */
describe('default detector on NAB realAWSCloudwatch', () => {
  it('scores at least 74 (standard) and 69 (reward_low_FP_rate), normalized, threshold optimized as NAB does', () => {
    const windows = loadWindows(join(NAB, 'labels/combined_windows.json'));
    const files: ScoredFile[] = listCorpus(join(NAB, 'data'))
      .filter((e) => e.category === 'realAWSCloudwatch')
      .map((e) => {
        const d = loadDataFile(e.path);
        const run = runDetector(createDetector({}, medianPeriod(d.timestamps)), d.timestamps, d.values);
        expect(run.stateBytes).toBeLessThanOrEqual(2048);
        return { key: e.key, timestamps: d.timestamps, windows: windows.get(e.key) ?? [], scores: run.scores };
      });
    expect(files.length).toBe(17);
    expect(scoreCorpus(files, 'standard').normalized).toBeGreaterThanOrEqual(74);
    expect(scoreCorpus(files, 'reward_low_FP_rate').normalized).toBeGreaterThanOrEqual(69);
  });
});
