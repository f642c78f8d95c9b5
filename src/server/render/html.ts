/** Escapes text for HTML element content and attribute values. */
export function esc(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : value !== null && typeof value === 'object' ? JSON.stringify(value) : '';
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export const fmtTime = (t: number): string => new Date(t).toISOString().replace('T', ' ').slice(0, 19) + 'Z';

export function fmtRemaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${s} s`;
}

/** Human words for each state; expired and rejected say plainly that nothing ran. */
export const STATE_LABEL: Record<string, string> = {
  detected: 'detected',
  drafting: 'drafting a runbook',
  awaiting_approval: 'awaiting approval',
  approved: 'approved',
  executing: 'executing',
  verifying: 'executed — verifying recovery',
  resolved: 'resolved — executed and verified',
  not_recovered: 'executed — not recovered',
  failed: 'failed',
  needs_human: 'needs a person',
  rejected: 'rejected — not executed',
  expired: 'expired — not executed',
  superseded: 'superseded by a newer runbook',
  withdrawn: 'withdrawn — the anomaly cleared by itself',
};

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · cloudops-watcher</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a41;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:1040px;margin:0 auto;padding:16px 24px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 18px;margin:12px 0}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:6px 0 10px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:6px 8px;border-bottom:1px solid #eceef1;vertical-align:top;overflow-wrap:break-word}td.when{white-space:nowrap}
code,pre{font:13px ui-monospace,Menlo,Consolas,monospace;background:#f1f3f5;border-radius:4px;padding:1px 4px}pre{padding:8px;white-space:pre-wrap;overflow-wrap:anywhere}code.audit-data,.params code{word-break:break-all}svg{max-width:100%;height:auto}
.state{display:inline-block;border-radius:12px;padding:2px 10px;font-size:13px;font-weight:600;background:#e8eaed}
.s-awaiting_approval{background:#fff3cd;color:#7a5b00}.s-resolved{background:#d1f2dc;color:#0c5a2a}
.s-expired,.s-rejected,.s-withdrawn,.s-superseded{background:#eceef1;color:#444}.s-needs_human,.s-failed,.s-not_recovered{background:#fde2e1;color:#8a1c17}
.risk-high{color:#8a1c17;font-weight:600}.risk-medium{color:#7a5b00;font-weight:600}.risk-low{color:#0c5a2a}
.muted{color:#5f6b7a;font-size:13px}.big{font-size:18px;font-weight:600}
form.decide{display:flex;gap:8px;flex-wrap:wrap;align-items:end}form.decide label{display:flex;flex-direction:column;font-size:13px}
@media (max-width:640px){header{padding:8px 12px}main{padding:8px}section{padding:10px;margin:8px 0}td,th{padding:4px 5px}td.when{white-space:normal}table{display:block;overflow-x:auto}a,code{overflow-wrap:anywhere}}
input,button{font:inherit;padding:6px 10px;border-radius:6px;border:1px solid #b8bfc8}button.approve{background:#0c7a3a;color:#fff;border:0}button.reject{background:#a61b14;color:#fff;border:0}
</style></head><body><header><a href="/">cloudops-watcher</a></header><main>${body}</main></body></html>`;
}
