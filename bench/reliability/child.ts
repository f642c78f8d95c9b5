/**
 * One measurement in a fresh process (its resident memory is the pipeline's, not the bench driver's):
 * `tsx bench/reliability/child.ts soak|cpu|storm '<json options>'` prints one JSON line.
 */
import { cpuPerCycle } from './cpu-per-cycle.js';
import { runSoak } from './soak.js';
import { runStorm } from './storm.js';

const [what, json] = process.argv.slice(2);
const o = JSON.parse(json ?? '{}') as Record<string, unknown>;
const result = what === 'soak' ? await runSoak(o as never) : what === 'cpu' ? await cpuPerCycle(o as never) : what === 'storm' ? await runStorm(o as never) : null;
if (result === null) {
  process.stderr.write(`child.ts: unknown measurement "${what}" (soak, cpu or storm)\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
