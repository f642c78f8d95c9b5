import { expect } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import type { Watcher } from '../../src/pipeline/watcher.js';
import { seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

/** Seeds the demo's checkout incident and runs one cycle: the incident with its proposed runbook. */
export async function proposeCheckout(w: FastWorld, watcher: Watcher, id?: string): Promise<Incident> {
  const inc = await seedCheckoutIncident(w, id);
  await watcher.runCycle();
  const p = await w.store.getIncident(inc.id);
  if (!p?.runbook) throw new Error(`not proposed: ${p?.reason ?? ''}`);
  return p;
}

/** alice approves from the CLI channel; the run goes as far as it goes. Returns the incident as stored after. */
export async function approveAndRun(w: FastWorld, watcher: Watcher, p: Incident): Promise<Incident> {
  const res = await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
  expect(res.outcome).toBe('approved');
  await watcher.queueIdle();
  await watcher.runCycle();
  await watcher.queueIdle();
  return (await w.store.getIncident(p.id))!;
}
