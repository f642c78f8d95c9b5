import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { Incident } from '../../src/incident/incident.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface DemoDaemon {
  readonly daemon: Daemon;
  /** The data folder (its policy is policy.yaml there). */
  readonly dataDir: string;
  /** Polls the store until `pred` finds an incident, or fails naming `what`. */
  until(what: string, pred: (incs: Incident[]) => Incident | undefined, ms?: number): Promise<Incident>;
  /** Stops the daemon (once) and removes its data folder. */
  close(): Promise<void>;
}

/**
 * The daemon in this process on the demo policy (config/demo.yaml) at 600x speed on a free port, in a
 * fresh data folder, with `edit` applied to the policy document first (channels, approvers).
 */
export async function startDemoDaemon(edit: (doc: Record<string, any>) => void): Promise<DemoDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-demo-'));
  const doc = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, any>;
  doc.cloud.scenario = join(ROOT, 'config', 'scenarios', 'demo.yaml');
  doc.cloud.speed = 600;
  doc.runbooks.dir = join(ROOT, 'runbooks');
  doc.server.port = 0;
  edit(doc);
  writeFileSync(join(dir, 'policy.yaml'), stringify(doc));
  const daemon = await startDaemon({ policyFile: join(dir, 'policy.yaml'), dataDir: dir, logger: pino({ level: 'silent' }) });
  return {
    daemon,
    dataDir: dir,
    async until(what, pred, ms = 30_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const hit = pred(await daemon.store.listIncidents({}));
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    async close() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
