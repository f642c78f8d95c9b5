import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DAY } from '../../core/time.js';
import { gaussian, hashString, uniform } from './random.js';
import type { Scenario } from './scenario.js';

type MetricSpec = Scenario['services'][string]['metrics'][string];

/** The undisturbed value of one scenario metric at a time: baseline + noise + daily cycle, or a replayed trace. */
export class BaselineSeries {
  private readonly key: number;
  private readonly replay: number[] | null;

  constructor(
    private readonly scenario: Scenario,
    readonly service: string,
    readonly metric: string,
    private readonly spec: MetricSpec,
  ) {
    this.key = hashString(`${service}/${metric}`);
    this.replay = spec.replay ? readReplay(resolve(scenario.dir, spec.replay.csv), spec.replay.scale) : null;
  }

  valueAt(t: number, index: number): number {
    if (this.replay) return this.replay[((index % this.replay.length) + this.replay.length) % this.replay.length] ?? 0;
    const b = this.spec.baseline;
    if (!b) return 0;
    const daily = b.daily * b.level * Math.sin((2 * Math.PI * (t % DAY)) / DAY);
    let v = (b.level + daily) * (1 - b.weekly * weekendDip(t)) + b.noise * gaussian(this.scenario.seed, this.key, index);
    if (b.spikes > 0 && uniform(this.scenario.seed, this.key ^ 0x5bd1e995, index) < b.spikes) v += 4 * b.noise + 0.2 * b.level;
    return Math.max(b.min, v);
  }
}

/**
 * 0 on weekdays, 1 on Saturdays and Sundays, with a six-hour ramp either side of the weekend, so a
 * weekly cycle looks like real traffic rather than a step.
 */
export function weekendDip(t: number): number {
  const dow = new Date(t).getUTCDay();
  const hour = (t % DAY) / 3_600_000;
  if (dow === 0 || dow === 6) {
    if (dow === 6 && hour < 6) return hour / 6;
    if (dow === 0 && hour >= 18) return (24 - hour) / 6;
    return 1;
  }
  return 0;
}

const replayCache = new Map<string, number[]>();

function readReplay(file: string, scale: number): number[] {
  let values = replayCache.get(file);
  if (!values) {
    values = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l.trim() !== '')
      .map((l) => Number(l.split(',')[1]));
    replayCache.set(file, values);
  }
  return values.map((v) => v * scale);
}
