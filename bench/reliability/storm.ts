/**
 * Storm (issue 16 item 8): `anomalies` metrics turn anomalous in the same minute. They must be grouped
 * (one incident per service, not one per metric) and the notifier must not be flooded: counted are the
 * messages sent from the onset until every incident is proposed, per incident opened.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEstate, writeEstate } from './synthetic-world.js';

export interface StormResult {
  readonly anomalies: number;
  readonly incidents: number;
  readonly notifications: number;
  readonly notifications_per_incident: number;
  readonly cycles: number;
}

const STORM_AT_MIN = 30;

export async function runStorm(o: { anomalies: number; metrics: number }): Promise<StormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-storm-'));
  const e = openEstate(dir, writeEstate(dir, { metrics: Math.max(o.metrics, o.anomalies), days: 1, every: '1m', badDeployEveryH: 0, stormMetrics: o.anomalies, stormAtMin: STORM_AT_MIN }));
  for (let i = 0; i < STORM_AT_MIN; i++) await e.step();
  const before = e.notifier.sent.length;
  let cycles = 0;
  // Until every incident of the storm is proposed (or has ended) and nothing new opens for a while.
  for (let quiet = 0; cycles < 120 && quiet < 10; cycles++) {
    await e.step();
    const incs = await e.store.listIncidents({ limit: 100_000 });
    quiet = incs.length > 0 && incs.every((i) => !['detected', 'drafting'].includes(i.state)) ? quiet + 1 : 0;
  }
  const incidents = (await e.store.listIncidents({ limit: 100_000 })).length;
  const notifications = e.notifier.sent.length - before;
  await e.store.close();
  return { anomalies: o.anomalies, incidents, notifications, notifications_per_incident: incidents ? Math.round((notifications / incidents) * 1000) / 1000 : 0, cycles };
}
