/* eslint-disable no-control-regex -- the assertions look for control characters */
import { afterEach, describe, expect, it } from 'vitest';
import { renderSlackMessage } from '../../src/approval/channels/slack-blocks.js';
import { ConsoleNotifier } from '../../src/approval/channels/console-notifier.js';
import { emailText } from '../../src/approval/email-notifier.js';
import type { Announcement } from '../../src/cloud/ports.js';
import { plainLine, safeHttpUrl, slackText, terminalText } from '../../src/core/sanitize.js';
import type { Incident } from '../../src/incident/incident.js';
import { nextVersion } from '../../src/store/store.js';
import { renderIncidentPage } from '../../src/server/render/incident-page.js';
import { slackWorld, type SlackWorld } from '../helpers/slack-api-stub.js';

/**
 * Issue 10, item 8: commit messages and log lines are written by whoever can push or log. On every
 * channel they are shown, never obeyed: no new line in an email, no escape in a terminal, no mention or
 * link in Slack, no script or non-http(s) link on a page.
 */

const HOSTILE_COMMIT = 'fix typo\r\n\r\nApprove: https://evil.example/approve\u0007 \u001b[2J\u001b]0;pwned\u0007\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ <!channel> <@U0EVIL> <https://evil.example|https://ops.example.com> & \u202eexe.txt\u2028next';

const worlds: SlackWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close().catch(() => undefined);
});

async function hostileProposal(): Promise<{ w: SlackWorld; inc: Incident }> {
  const w = await slackWorld();
  worlds.push(w);
  const found = (await w.runUntil((all) => all.some((i) => i.state === 'awaiting_approval'))).find((i) => i.state === 'awaiting_approval');
  if (!found?.correlation?.suspect) throw new Error('no proposal with a suspect');
  const sus = found.correlation.suspect;
  const inc: Incident = {
    ...nextVersion(found, w.h.clock.now()),
    reason: `errors rose after ${HOSTILE_COMMIT}`,
    correlation: { ...found.correlation, suspect: { ...sus, deployment: { ...sus.deployment, revisionSummary: HOSTILE_COMMIT, triggeredBy: '<!here> mallory', revisionUrl: 'javascript:alert(document.cookie)' } } },
  };
  await w.h.store.updateIncident(inc, { at: w.h.clock.now(), incidentId: inc.id, kind: 'test.hostile', actor: 'test', data: {} });
  return { w, inc };
}

const announcement = (inc: Incident, kind: Announcement['kind']): Announcement => ({ kind, incidentId: inc.id, title: `[checkout] ${HOSTILE_COMMIT}`, text: `suspect: ${HOSTILE_COMMIT}`, url: 'http://127.0.0.1/incidents/x', state: inc.state });

describe('item 8: per-channel escaping of untrusted text', () => {
  it('the functions: one line, no escapes, no controls, Slack specials escaped, only http(s) links', () => {
    expect(plainLine(HOSTILE_COMMIT)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
    expect(terminalText('\u001b[31mred\u001b[0m \u009b2J')).toBe('red');
    expect(slackText('<!channel> <@U1> a & b')).toBe('&lt;!channel&gt; &lt;@U1&gt; a &amp; b');
    expect(safeHttpUrl('https://git.example.com/c/1')).toBe('https://git.example.com/c/1');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x', '//evil.example', 'not a url', '']) expect(safeHttpUrl(bad)).toBeNull();
  });

  it('SNS email: no untrusted line of its own, so no fake "Approve: https://…" line above the real link', async () => {
    const { w, inc } = await hostileProposal();
    const text = emailText(announcement(inc, 'proposal'), inc, 'https://ops.example.com/email/x?t=real', undefined);
    const lines = text.split('\n');
    expect(lines.filter((l) => /evil\.example/.test(l)).every((l) => !/^\s*(Approve|Review|https?:)/i.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('Approve:'))).toBe(false);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
    expect(lines.filter((l) => l.startsWith('https://'))).toEqual(['https://ops.example.com/email/x?t=real']);
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('console: no terminal escape sequence or control character is printed', async () => {
    const { inc } = await hostileProposal();
    let printed = '';
    const c = new ConsoleNotifier((id) => `cloudops approve ${id} --as <approver>`, (t) => void (printed += t));
    for (const kind of ['proposal', 'final'] as const) await c.announce(announcement(inc, kind));
    expect(printed).toContain('fix typo');
    expect(printed).not.toMatch(/[\u001b\u0007\u009b\u202e\r]/);
    expect(printed.split('\n').some((l) => l.trim().startsWith('Approve:'))).toBe(false);
  });

  it('Slack: the proposal, its updates and the thread replies carry no <!channel>, no <@U…> and no disguised link from the commit', async () => {
    const { w, inc } = await hostileProposal();
    const msg = renderSlackMessage({ incident: inc, decisions: [], quorum: null, url: 'http://127.0.0.1/x', eligible: [], now: inc.openedAt });
    const all = JSON.stringify(msg);
    expect(all).not.toMatch(/<!channel>|<!here>|<@U0EVIL>|<https:\/\/evil/);
    for (const kind of ['decision', 'reminder', 'final'] as const) await w.notifier.announce(announcement(inc, kind), new AbortController().signal);
    const calls = [...w.stub.callsOf('chat.postMessage'), ...w.stub.callsOf('chat.update')];
    expect(calls.filter((c) => c.args['thread_ts']).length).toBeGreaterThan(0);
    for (const c of calls) {
      const sent = JSON.stringify(c.args);
      expect(sent).not.toMatch(/<!channel>|<!here>|<@U0EVIL>|<https:\/\/evil/);
      expect(sent).not.toMatch(/\\u001b|\\u0007/);
    }
    expect(w.h.sim.executeCalls()).toBe(0);
  });

  it('page: the commit text is escaped, and a javascript: revision URL is shown but not linked', async () => {
    const { inc } = await hostileProposal();
    const html = renderIncidentPage({ incident: inc, decisions: [], audit: [], now: inc.openedAt, quorum: null, csrf: null, approveCommand: null });
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('javascript:alert(document.cookie)</code>, not linked');
    expect(html).not.toContain('<!channel>');
    expect(html).toContain('&lt;!channel&gt;');
  });
});
