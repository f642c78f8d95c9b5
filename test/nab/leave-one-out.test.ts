import { describe, expect, it } from 'vitest';
import { leaveOneGroupOut, meanHeldOut, type GroupedFile } from '../../src/nab/leave-one-out.js';

const PERIOD = 60_000;
/** 1,000 points; one window at 600..700; score `peak` at point 620 and `noise` at point 300 (outside). */
function file(group: string, key: string, peak: number, noise: number): GroupedFile {
  const timestamps = Float64Array.from({ length: 1000 }, (_, i) => i * PERIOD);
  const scores = new Float64Array(1000);
  scores[620] = peak;
  scores[300] = noise;
  return { key, group, timestamps, windows: [{ start: 600 * PERIOD, end: 700 * PERIOD }], scores };
}

describe('leave-one-group-out', () => {
  it('scores each group at the threshold optimized on the others; a group whose scale differs loses against its own optimum', () => {
    // Groups a and b: anomalies score 0.9, noise 0.5. Group c: anomalies score 0.4, noise 0.2 (scores on another scale).
    const files = [file('a', 'a1', 0.9, 0.5), file('b', 'b1', 0.9, 0.5), file('c', 'c1', 0.4, 0.2)];
    const rows = leaveOneGroupOut(files);
    const c = rows.find((r) => r.group === 'c')!;
    expect(c.threshold).toBe(0.9); // chosen on a and b
    expect(c.ownThreshold).toBe(0.4);
    expect(c.own).toBeGreaterThan(c.heldOut);
    const a = rows.find((r) => r.group === 'a')!;
    // a's threshold comes from b and c together; it cannot beat a's own optimum.
    expect(a.heldOut).toBeLessThanOrEqual(a.own);
    expect(meanHeldOut(rows)).toBeCloseTo((rows[0]!.heldOut + rows[1]!.heldOut + rows[2]!.heldOut) / 3, 9);
  });

  it('skips a group without labeled windows (no normalized score exists)', () => {
    const empty = { ...file('z', 'z1', 0.9, 0.5), windows: [] };
    expect(leaveOneGroupOut([file('a', 'a1', 0.9, 0.5), empty]).map((r) => r.group)).toEqual(['a']);
  });
});
