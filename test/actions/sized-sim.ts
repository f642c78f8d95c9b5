import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../../src/cloud/sim/scenario.js';
import { SimCloud } from '../../src/cloud/sim/sim-cloud.js';
import { SimStateFile } from '../../src/cloud/sim/sim-state.js';
import { ManualClock } from '../../src/core/clock.js';

/** A simulated cloud with one sized ECS service (`api`: 2 tasks of 0.25 vCPU / 0.5 GB) and one that states no tasks (`bare`). */
const SCENARIO = `
name: sized
start: 2026-11-02T08:00:00Z
services:
  api:
    metrics:
      CPUUtilization: { baseline: { level: 30, noise: 1 } }
    tasks: { desired: 2, cpu: 256, memory: 512 }
  bare:
    metrics:
      CPUUtilization: { baseline: { level: 30, noise: 1 } }
`;

/** Sims over one state file at `at`: each `open()` is the daemon (re)started on the same state. */
export function sizedSims(at = '2026-11-02T08:00:00Z'): { open: () => SimCloud } {
  const file = join(mkdtempSync(join(tmpdir(), 'cloudops-sized-sim-')), 'sim-state.json');
  const clock = new ManualClock(Date.parse(at));
  return { open: () => new SimCloud(parseScenario(SCENARIO, 'sized.yaml'), clock, new SimStateFile(file)) };
}
