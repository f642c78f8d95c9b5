import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/detect/config.js';
import { epochMs } from '../../src/core/time.js';

const t = (i: number) => epochMs(1_700_000_000_000 + i * 60_000);

describe('static threshold detector', () => {
  it('is anomalous exactly above `above` and below `below`, with the side as direction', () => {
    const det = createDetector({ kind: 'static', threshold: { above: 90, below: 10 } }, 60_000);
    const st = det.init();
    const vs = [50, 90, 91, 10, 9].map((v, i) => det.update(st, t(i), v));
    expect(vs.map((v) => v.anomalous)).toEqual([false, false, true, false, true]);
    expect(vs.map((v) => v.direction)).toEqual([null, null, 'up', null, 'down']);
    expect(vs.map((v) => v.score)).toEqual([0, 0, 1, 0, 1]);
  });

  it('respects direction and minDuration', () => {
    const det = createDetector({ kind: 'static', threshold: { above: 90, below: 10 }, direction: 'up', minDuration: 2 }, 60_000);
    const st = det.init();
    const vs = [95, 50, 95, 96, 5, 5].map((v, i) => det.update(st, t(i), v));
    expect(vs.map((v) => v.anomalous)).toEqual([false, false, false, true, false, false]);
  });

  it('treats missing data per policy', () => {
    const mk = (missing: 'ignore' | 'zero' | 'breaching' | 'notBreaching') =>
      createDetector({ kind: 'static', threshold: { below: 1 }, missing }, 60_000);
    for (const [m, anomalous] of [['ignore', false], ['notBreaching', false], ['breaching', true], ['zero', true]] as const) {
      const det = mk(m);
      const st = det.init();
      expect(det.update(st, t(0), null).anomalous, m).toBe(anomalous);
    }
    // notBreaching resets the run, ignore keeps it.
    const run = (m: 'ignore' | 'notBreaching') => {
      const det = createDetector({ kind: 'static', threshold: { above: 5 }, missing: m, minDuration: 2 }, 60_000);
      const st = det.init();
      return [9, null, 9].map((v, i) => det.update(st, t(i), v).anomalous);
    };
    expect(run('ignore')).toEqual([false, false, true]);
    expect(run('notBreaching')).toEqual([false, false, false]);
  });

  it('state round-trips through JSON', () => {
    const det = createDetector({ kind: 'static', threshold: { above: 5 }, minDuration: 2 }, 60_000);
    const st = det.init();
    det.update(st, t(0), 9);
    const copy = JSON.parse(JSON.stringify(st)) as object;
    expect(det.update(copy, t(1), 9).anomalous).toBe(true);
  });
});
