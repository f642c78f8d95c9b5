import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../src/core/clock.js';
import type { Announcement, Notifier } from '../../src/cloud/ports.js';
import { buildSimWorld, type SimWorld } from '../../src/compose.js';
import type { Incident } from '../../src/incident/incident.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { Watcher } from '../../src/pipeline/watcher.js';

export class RecordingNotifier implements Notifier {
  readonly channel = 'test';
  readonly sent: Announcement[] = [];
  async announce(a: Announcement): Promise<void> {
    this.sent.push(a);
  }
}

export interface Harness extends SimWorld {
  readonly clock: ManualClock;
  readonly watcher: Watcher;
  readonly policy: CompiledPolicy;
  readonly notifier: RecordingNotifier;
  readonly dataDir: string;
  /** Advances virtual time one poll interval at a time, running a cycle each, until `until` holds. */
  runUntil(until: (incs: Incident[]) => boolean, maxCycles?: number): Promise<Incident[]>;
  incidents(): Promise<Incident[]>;
}

export function simHarness(policyFile = 'config/demo.yaml', edit?: (p: CompiledPolicy) => CompiledPolicy, dataDir?: string): Harness {
  let policy = compilePolicy(loadPolicyFile(policyFile).policy, policyFile);
  if (edit) policy = edit(policy);
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'cloudops-test-'));
  const clock = new ManualClock(Date.parse('2026-11-02T08:00:00Z'));
  const notifier = new RecordingNotifier();
  const world = buildSimWorld(policy, { dataDir: dir, logger: pino({ level: 'silent' }), notifiers: [notifier], clock, publicUrl: 'http://127.0.0.1:0' });
  const watcher = new Watcher(world.deps);
  const incidents = (): Promise<Incident[]> => world.store.listIncidents();
  return {
    ...world,
    clock,
    watcher,
    policy,
    notifier,
    dataDir: dir,
    incidents,
    async runUntil(until, maxCycles = 200) {
      for (let i = 0; i < maxCycles; i++) {
        const incs = await incidents();
        if (until(incs)) return incs;
        clock.advance(policy.pollEveryMs);
        await watcher.runCycle();
      }
      throw new Error(`condition not reached after ${maxCycles} cycles; incidents: ${JSON.stringify((await incidents()).map((i) => [i.id, i.state, i.reason]))}`);
    },
  };
}
