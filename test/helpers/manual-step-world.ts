import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import type { PolicyDoc } from '../../src/policy/schema.js';
import { loadCatalog } from '../../src/runbook/catalog.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { demoFiles, fastWorld, seedCheckoutIncident, type FastWorld } from './fast-world.js';

/** The demo policy with `manual` allowed and only on-call (alice, bob) approving medium risk, and a runbook: a person first, then the rollback. */
export function manualFirstWorld(tweak: (doc: PolicyDoc) => void = () => {}): { w: FastWorld; watcher: Watcher } {
  const files = demoFiles((doc: PolicyDoc) => {
    tweak(doc);
    (doc.actions as Record<string, unknown>)['manual'] = { risk: 'low', description: 'a person does it', params: { instruction: { pattern: '.{1,1000}' } } };
    doc.approval.quorum.medium = { ...doc.approval.quorum.medium, from: ['oncall'] };
  });
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-runbooks-'));
  const rollback = readFileSync('runbooks/rollback-suspect-deployment.md', 'utf8');
  writeFileSync(
    join(dir, 'drain-then-rollback.md'),
    rollback
      .replace('id: rollback-suspect-deployment', 'id: drain-then-rollback')
      .replace('priority: 10', 'priority: 99')
      .replace('steps:\n', 'steps:\n  - action: manual\n    description: Pause the payment queue consumers first.\n    params:\n      instruction: "Pause the payment queue consumers in the ops console"\n'),
  );
  const w = fastWorld({ ...files, templates: loadCatalog(dir, files.policy.doc.actions) });
  return { w, watcher: new Watcher(w.deps) };
}

/** Proposes, approves (alice) and runs cycles until the manual step waits for a person. */
export async function atManualStep(w: FastWorld, watcher: Watcher): Promise<Incident> {
  const seeded = await seedCheckoutIncident(w);
  await watcher.runCycle();
  const p = await w.store.getIncident(seeded.id);
  if (!p?.runbook) throw new Error(`not proposed: ${p?.reason ?? ''}`);
  expect(p.runbook.steps.map((s) => s.action)).toEqual(['manual', 'codepipeline.rollback']);
  await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook.hash, channel: 'cli', identity: 'token:alice' });
  await watcher.queueIdle();
  await watcher.runCycle();
  await watcher.queueIdle();
  return (await w.store.getIncident(p.id))!;
}
