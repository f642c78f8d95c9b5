import type { Incident } from '../../incident/incident.js';
import { describeMute } from '../../mute/mutes.js';
import { esc, fmtRemaining, fmtTime, layout, STATE_LABEL } from './html.js';

/** The incident list, newest first. Pure. */
export function renderListPage(incidents: readonly Incident[], now: number): string {
  const rows = incidents.map((i) => {
    const left = i.state === 'awaiting_approval' && i.approval ? ` · ${fmtRemaining(i.approval.expiresAt - now)} left` : '';
    const suspect = i.correlation?.suspect ? `${i.correlation.suspect.deployment.pipeline} ${i.correlation.suspect.deployment.id.slice(0, 8)}` : i.correlation ? 'no deployment' : '';
    const muted = i.mutes.filter((m) => m.until > now).map((m) => `<span class="muted-by" title="${esc(m.reason)}">muted by ${esc(describeMute(m))} until ${esc(fmtTime(m.until))}</span>`);
    return `<tr><td><a href="/incidents/${encodeURIComponent(i.id)}">${esc(i.id)}</a></td><td>${esc(i.service)}</td><td><span class="state s-${esc(i.state)}">${esc(STATE_LABEL[i.state] ?? i.state)}</span>${esc(left)}${muted.length ? `<br>${muted.join('<br>')}` : ''}</td><td>${esc(suspect)}</td><td>${esc(fmtTime(i.onsetAt))}</td></tr>`;
  });
  const body = `<h1>Incidents</h1><section>${rows.length ? `<table><tr><th>incident</th><th>service</th><th>state</th><th>suspect</th><th>onset</th></tr>${rows.join('')}</table>` : '<p>No incidents. The watcher is polling.</p>'}</section>`;
  return layout('Incidents', body);
}
