import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import type { AuditRecord } from '../../src/store/store.js';
import { renderChart } from '../../src/server/render/chart.js';
import { approveCommands, canStillApprove } from '../../src/server/render/approve-command.js';
import { renderIncidentPage, type IncidentView } from '../../src/server/render/incident-page.js';
import { renderListPage } from '../../src/server/render/list-page.js';
import { withAwaitingIncident, type ApprovalServer } from './approval-server.js';

/** Issue 15 bugs 1, 2, 3, 5, 6, 7 as an on-call engineer meets them on the page and the API. */
let s: ApprovalServer;
let inc: Incident;
withAwaitingIncident((server, awaiting) => {
  s = server;
  inc = awaiting;
});

const view = (i: Incident, over: Partial<IncidentView> = {}): IncidentView => ({ incident: i, decisions: [], audit: [], now: i.openedAt, quorum: null, csrf: null, approveCommand: null, ...over });
const muted = (): Incident => ({
  ...structuredClone(inc),
  mutes: [{ id: 'sil-0123abcd', by: 'carol', kind: 'silence', reason: 'provider maintenance until 10:00', at: inc.openedAt, until: (inc.openedAt + 3_600_000) as EpochMs, metrics: ['checkout5xx'] }],
});

describe('on-call page', () => {
  it('bug 1: a signal of a resolved incident is never shown as ongoing', () => {
    const resolved: Incident = { ...structuredClone(inc), state: 'resolved' };
    for (const sig of resolved.signals) sig.clearedAt = null;
    const html = renderIncidentPage(view(resolved));
    expect(html).toContain('not watched since the incident ended');
    expect(html).not.toMatch(/class="signal-now">ongoing/);
    expect(renderIncidentPage(view(inc))).toMatch(/class="signal-now">ongoing/);
  });

  it('bug 2: a silence shows on the page and the list, with who, why and until when', () => {
    const i = muted();
    const page = renderIncidentPage(view(i));
    expect(page).toMatch(/<section id="mutes"><h2>Muted<\/h2>/);
    expect(page).toContain('<code>sil-0123abcd</code></td><td>carol</td><td class="mute-reason">provider maintenance until 10:00</td>');
    const list = renderListPage([i], i.openedAt);
    expect(list).toContain('muted by silence sil-0123abcd by carol (provider maintenance until 10:00) until');
    expect(renderListPage([i], i.openedAt + 7_200_000)).not.toContain('muted by');
  });

  it('bug 3: a long audit trail says it is cut and keeps the records that opened and proposed', () => {
    const rec = (seq: number, kind: string): AuditRecord => ({ seq, at: (inc.openedAt + seq * 60_000) as EpochMs, incidentId: inc.id, kind, actor: 'watcher', data: {}, prevHash: '', hash: '' });
    const audit = [rec(1, 'incident.opened'), rec(2, 'incident.transition'), rec(3, 'incident.transition'), ...Array.from({ length: 200 }, (_, n) => rec(n + 4, 'verify.poll'))];
    const html = renderIncidentPage(view(inc, { audit }));
    expect(html).toMatch(/id="audit-cut">Showing 33 of 203 records/);
    expect(html).toContain('<td>1</td>');
    expect(html).toContain('<td>incident.opened</td>');
    expect(html).toContain(`/api/incidents/${inc.id}/audit`);
    expect(renderIncidentPage(view(inc, { audit: audit.slice(0, 3) }))).toMatch(/id="audit-cut">All 3 records/);
  });

  it('bug 5: the demo page prints one runnable approve command, with a real approver name', async () => {
    const html = await (await fetch(`${s.url}/incidents/${inc.id}`)).text();
    expect(html).toContain(`<code>npm run cloudops -- approve ${inc.id} --as alice</code>`);
    expect(html).not.toContain('&lt;approver&gt;');
  });

  it('bug 5: without demo tokens, one command per approver who can still approve', () => {
    const cmd = (who: string): string => `cloudops approve X --as ${who}`;
    const hash = inc.runbook?.hash ?? '';
    const still = canStillApprove(inc, [{ incidentId: inc.id, approver: 'bob', verdict: 'approve', runbookHash: hash, at: inc.openedAt, channel: 'cli', identity: 'token:bob' }], ['carol', 'alice', 'bob']);
    expect(still).toEqual(['alice', 'carol']);
    expect(approveCommands(cmd, still, new Set())).toEqual(['cloudops approve X --as alice', 'cloudops approve X --as carol']);
    expect(approveCommands(cmd, still, new Set(['carol']))).toEqual(['cloudops approve X --as carol']);
    const html = renderIncidentPage(view(inc, { approveCommand: approveCommands(cmd, still, new Set()), quorum: { approvedBy: ['bob'], needed: 2 } }));
    expect(html).toContain('<pre id="approve-command">cloudops approve X --as alice\ncloudops approve X --as carol</pre>');
  });

  it('bug 6: an unknown approver is told so, with the known ones', async () => {
    const res = await fetch(`${s.url}/api/incidents/${inc.id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token-mallory', 'content-type': 'application/json' },
      body: JSON.stringify({ runbookHash: inc.runbook?.hash, as: 'mallory' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'mallory is not an approver (known: alice, bob, carol)' });
    expect((await s.h.store.listDecisions(inc.id)).length).toBe(0);
  });

  it('bug 7: deploy labels sit in the band above the plot, never over the data line', () => {
    const t0 = 1_700_000_000_000;
    const points = Array.from({ length: 60 }, (_, n) => ({ t: t0 + n * 60_000, v: n < 30 ? 1 : 100 }));
    const svg = renderChart({ title: 'm', points, anomaly: null, deployments: [{ id: 'aaaaaaaa1', at: t0 + 29 * 60_000 }, { id: 'bbbbbbbb2', at: t0 + 31 * 60_000 }], suspectId: 'aaaaaaaa1' });
    const plotTop = Number(/<rect x="\d+" y="(\d+)"/.exec(svg)?.[1]);
    const labels = [...svg.matchAll(/<text class="deploy-label" x="([\d.]+)" y="(\d+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    expect(labels).toHaveLength(2);
    for (const l of labels) expect(l.y).toBeLessThan(plotTop);
    // Two deployments close together: the second label takes the second row.
    expect(labels[0]?.y).not.toBe(labels[1]?.y);
    const ys = [...svg.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(plotTop);
  });
});
