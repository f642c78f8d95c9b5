import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/incident.js';
import { createHttpServer, listen } from '../../src/server/server.js';
import { simHarness, type Harness } from '../helpers/sim-harness.js';
import { cloudops } from '../helpers/cloudops-cli.js';


/** Brief items 2 and 3 through the real `cloudops` command against the daemon's HTTP server. */
describe('cloudops show / incidents / --version', () => {
  let h: Harness;
  let server: Server;
  let url = '';
  let inc: Incident;
  beforeAll(async () => {
    h = simHarness();
    server = createHttpServer({ store: h.store, policy: h.policy, clock: h.clock, watcher: h.watcher, logger: h.deps.logger, registry: new Registry(), ready: () => ({ ok: true, why: 'test' }), approveCommand: () => '' });
    url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    const [a] = (await h.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).filter((i) => i.state === 'awaiting_approval');
    if (!a?.runbook) throw new Error('no proposal');
    await h.watcher.decide({ incidentId: a.id, approver: 'bob', verdict: 'approve', runbookHash: a.runbook.hash, channel: 'cli', identity: 'token:bob' });
    await h.watcher.drain();
    inc = (await h.runUntil((all) => all.some((i) => i.id === a.id && i.state === 'resolved'), 80)).find((i) => i.id === a.id) as Incident;
  }, 120_000);
  afterAll(() => {
    server.close();
  });

  it('show --record ends with the audit check; show --markdown is a postmortem; incidents filters by state and service', async () => {
    const [record, md, filtered, none] = await Promise.all([
      cloudops('show', inc.id, '--record', '--url', url),
      cloudops('show', inc.id, '--markdown', '--url', url),
      cloudops('incidents', '--state', 'resolved', '--service', 'checkout', '--json', '--url', url),
      cloudops('incidents', '--service', 'nosuch', '--url', url),
    ]);
    expect(record.code).toBe(0);
    expect(record.stdout).toContain(`bob approve ${inc.runbook?.hash} via cli as token:bob`);
    expect(record.stdout.trimEnd().split('\n').at(-1)).toMatch(/^audit: verified \(\d+ records in the chain\)$/);
    expect(md.stdout).toMatch(new RegExp(`^# Incident ${inc.id}: checkout\\n`));
    expect(md.stdout).toMatch(/\| step \| step 1 codepipeline\.rollback succeeded/);
    expect((JSON.parse(filtered.stdout) as { incidents: { id: string }[] }).incidents.map((i) => i.id)).toEqual([inc.id]);
    expect(none.stdout).toBe('no incidents match\n');
  }, 180_000);

  it('--version prints the package version; an unknown --as names the known approvers', async () => {
    const [v, mallory] = await Promise.all([cloudops('--version'), cloudops('approve', inc.id, '--as', 'mallory', '--url', url)]);
    expect(v.stdout).toBe(`${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`);
    expect(mallory.code).toBe(1);
    expect(mallory.stderr).toBe('cloudops: 403: mallory is not an approver (known: alice, bob, carol)\n');
  }, 180_000);
});
