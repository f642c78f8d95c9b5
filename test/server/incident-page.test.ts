import { describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import type { Decision, Incident } from '../../src/incident/incident.js';
import { renderChart } from '../../src/server/render/chart.js';
import { actionTarget, renderIncidentPage, type IncidentView } from '../../src/server/render/incident-page.js';
import { withAwaitingIncident } from './approval-server.js';

let inc: Incident;
withAwaitingIncident((_server, awaiting) => {
  inc = awaiting;
});

function view(over: Partial<IncidentView> = {}): IncidentView {
  const hash = inc.runbook?.hash ?? '';
  const decisions: Decision[] = [
    { incidentId: inc.id, approver: 'bob', verdict: 'approve', runbookHash: hash, at: (inc.openedAt + 60_000) as EpochMs, channel: 'email', identity: 'oidc:bob@example.com+email-link' },
    { incidentId: inc.id, approver: 'dave', verdict: 'approve', runbookHash: hash, at: (inc.openedAt + 90_000) as EpochMs, channel: 'slack', identity: 'slack:U0DAVE' },
  ];
  return {
    incident: inc,
    decisions,
    audit: [],
    now: (inc.approval?.expiresAt ?? 0) - 12 * 60_000 - 5_000,
    quorum: { approvedBy: ['bob'], needed: 2, eligible: ['alice', 'bob', 'carol'], ignored: [{ approver: 'dave', at: inc.openedAt + 90_000, why: 'dave is not an approver for this risk level' }] },
    csrf: 'c'.repeat(32),
    approveCommand: 'npm run cloudops -- approve X --as <approver>',
    ...over,
  };
}

describe('the incident page (pure render)', () => {
  it('shows the remaining time, the quorum still needed and who can still approve', () => {
    const html = renderIncidentPage(view());
    expect(html).toContain('<span id="remaining">12 min 5 s</span>');
    expect(html).toContain('<span id="approvals-count">1 of 2 approvals</span>');
    expect(html).toContain('<strong id="still-needed">1 more needed</strong>');
    expect(html).toMatch(/id="approved-by">Approved by: bob\./);
    expect(html).toMatch(/id="can-approve">Can still approve: alice, carol\./);
  });

  it('previews each action: name, target and every parameter', () => {
    const html = renderIncidentPage(view());
    const step = inc.runbook?.steps[0];
    if (!step) throw new Error('no step');
    expect(html).toContain(`<code class="action-name">${step.action}</code>`);
    expect(html).toContain(`<td class="target">pipeline checkout-deploy`);
    for (const [k, v] of Object.entries(step.params)) expect(html).toContain(`<li><code>${k}</code> = <code>${String(v)}</code></li>`);
    expect(actionTarget({ service: 'payments', cluster: 'prod' })).toBe('service payments in cluster prod');
    expect(actionTarget({ documentName: 'AWS-RestartEC2Instance' })).toBe('documentName AWS-RestartEC2Instance');
    expect(actionTarget({})).toBe('—');
  });

  it('lists decisions with channel and identity, and says which do not count and why', () => {
    const html = renderIncidentPage(view());
    expect(html).toMatch(/<td class="channel">email<\/td><td class="identity">oidc:bob@example.com\+email-link<\/td>.*<td>counts<\/td>/);
    expect(html).toMatch(/<td class="channel">slack<\/td><td class="identity">slack:U0DAVE<\/td>.*not counted: dave is not an approver for this risk level/);
  });

  it('draws the chart with the anomaly window and the suspect deployment marked, with the suspect, its reasons and the log evidence', () => {
    const html = renderIncidentPage(view());
    expect(html).toMatch(/<section id="chart">.*<svg[^>]*>.*<rect class="anomaly"/s);
    const suspect = inc.correlation?.suspect;
    if (!suspect) throw new Error('no suspect');
    expect(html).toContain(`<g class="deployment suspect" data-id="${suspect.deployment.id}">`);
    expect(html).toContain(`execution <code>${suspect.deployment.id}</code>`);
    for (const r of suspect.reasons) expect(html).toContain(`<li>${r.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</li>`);
    expect(html).toMatch(/<section id="evidence">.*PaymentClientV2/s);
  });

  it('names the suspect by pipeline, revision and commit message first, the execution id second, with console links on a real account only', () => {
    const d = inc.correlation!.suspect!.deployment;
    const sim = renderIncidentPage(view());
    expect(sim).toContain(`<p class="big">${d.pipeline} <code>${(d.revisionId ?? '?').slice(0, 12)}</code> <q>${d.revisionSummary ?? ''}</q></p>`);
    expect(sim.indexOf(`<q>${d.revisionSummary ?? ''}</q>`)).toBeLessThan(sim.indexOf(`execution <code>${d.id}</code>`));
    expect(sim).not.toContain('console.aws.amazon.com');
    const aws = renderIncidentPage(view({ links: { pipelineExecution: 'https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/p/executions/e/timeline', metric: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home#metricsV2', logs: 'javascript:alert(1)' } }));
    expect(aws).toContain('<a href="https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/p/executions/e/timeline" rel="noopener noreferrer">pipeline execution in the console</a>');
    expect(aws).toContain('>metric in CloudWatch</a>');
    expect(aws).not.toContain('javascript:');
  });

  it('is pure: the same data and now give the same page; only now moves the remaining time', () => {
    expect(renderIncidentPage(view())).toBe(renderIncidentPage(view()));
    expect(renderIncidentPage(view({ now: (inc.approval?.expiresAt ?? 0) + 1 }))).toContain('<span id="remaining">expired</span>');
  });

  it('escapes log text and commit messages, and shows the right decision form', () => {
    const ev = inc.evidence;
    if (!ev) throw new Error('no evidence');
    const evil: Incident = { ...inc, evidence: { ...ev, templates: [{ template: '<script>alert(1)</script>', baselineCount: 0, onsetCount: 3, isNew: true, samples: ['"><img src=x onerror=alert(1)>'] }] } };
    const html = renderIncidentPage(view({ incident: evil }));
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Token form by default; OIDC shows who is signed in and asks for no token; email posts to the link route.
    expect(renderIncidentPage(view())).toContain('name="token"');
    const oidc = renderIncidentPage(view({ form: { kind: 'oidc', approver: 'alice', identity: 'oidc:alice@example.com' } }));
    expect(oidc).toContain('Signed in as <strong>alice</strong>');
    expect(oidc).not.toContain('name="token"');
    const email = renderIncidentPage(view({ form: { kind: 'email', token: 'tok.en', approver: 'carol', linkExpiresAt: inc.approval?.expiresAt ?? 0 }, approveCommand: null }));
    expect(email).toContain(`action="/email/${encodeURIComponent(inc.id)}"`);
    expect(email).toContain('<input type="hidden" name="t" value="tok.en">');
    expect(email).toMatch(/<input type="checkbox" name="confirm" value="yes" required>/);
    expect(renderIncidentPage(view({ csrf: null }))).not.toContain('<form');
  });
});

describe('renderChart (pure)', () => {
  const points = Array.from({ length: 61 }, (_, i) => ({ t: i * 60_000, v: i > 50 ? 40 : 2 }));
  it('shades the anomaly window, marks the suspect in purple and other deployments in grey, labels in the band above the plot', () => {
    const svg = renderChart({ title: '5xx', points, anomaly: { start: 51 * 60_000, end: 70 * 60_000 }, deployments: [{ id: 'aaaaaaaa-1', at: 10 * 60_000 }, { id: 'bbbbbbbb-2', at: 59 * 60_000 }], suspectId: 'bbbbbbbb-2', expected: 2 });
    expect(svg).toMatch(/<rect class="anomaly" x="[\d.]+" y="36" width="[\d.]+"/);
    expect(svg).toContain('<g class="deployment" data-id="aaaaaaaa-1"><line x1="204.7" x2="204.7" y1="4" y2="192" stroke="#8896a6"');
    expect(svg).toMatch(/<g class="deployment suspect" data-id="bbbbbbbb-2">.*stroke="#6f42c1".*text-anchor="end">suspect deploy bbbbbbbb</);
    expect(svg).toContain('stroke-dasharray="4 4"');
    expect(renderChart({ title: 'x', points: points.slice(0, 1), anomaly: null, deployments: [] })).toContain('No datapoints');
  });
});
