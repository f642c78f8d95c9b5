/**
 * CPU seconds per poll cycle (issue 16 item 7): the pipeline on the synthetic estate, warmed up past
 * the detectors' warm-up, then `cycles` cycles timed with process.cpuUsage (user + system).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEstate, writeEstate } from './synthetic-world.js';

export async function cpuPerCycle(o: { metrics: number; warmup: number; cycles: number }): Promise<{ metrics: number; cycles: number; cpu_s_per_cycle: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-cpu-'));
  const e = openEstate(dir, writeEstate(dir, { metrics: o.metrics, days: 1, every: '1m', badDeployEveryH: 0 }));
  for (let i = 0; i < o.warmup; i++) await e.step();
  const before = process.cpuUsage();
  for (let i = 0; i < o.cycles; i++) await e.step();
  const used = process.cpuUsage(before);
  await e.store.close();
  return { metrics: o.metrics, cycles: o.cycles, cpu_s_per_cycle: Math.round(((used.user + used.system) / 1e6 / o.cycles) * 1000) / 1000 };
}
