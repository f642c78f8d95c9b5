import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { sha256Hex } from '../approval/approver-tokens.js';
import { PolicyInvalidError } from '../policy/load.js';
import { effectiveSafety, loadRunnablePolicy } from '../policy/validate.js';
import { readFileSync } from 'node:fs';
import { runUntilSignalled, demoToken } from '../daemon.js';
import { errorMessage } from '../core/errors.js';
import { policyJsonSchema } from '../policy/json-schema.js';
import { STATE_LABEL } from '../server/render/html.js';
import { registerBacktest } from '../backtest/backtest-command.js';
import { registerMcp } from '../mcp/mcp-command.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerFollowUps } from './follow-up-commands.js';
import { runJson } from './run-output.js';
import { registerStepCommands } from './step-commands.js';
import { showText, type IncidentDetail } from './show-text.js';
import { decisionRecord } from '../server/render/decision-record.js';
import { buildTimeline, timelineMarkdown } from '../server/render/timeline.js';
import type { AuditRecord, AuditVerification } from '../store/store.js';
import { installFaultHook } from '../core/fault-hook.js';

/**
 * The `cloudops` command tree (src/cli.ts parses argv with it; test/cli/readme-commands.test.ts reads it).
 * Everything except `run`, `validate`, `schema` and `audit` talks to the daemon over HTTP.
 */
export const program = new Command('cloudops')
  .description('Watches CloudWatch, names the deployment that broke a service, and runs a fix only when people approve it.')
  .showHelpAfterError()
  .version(packageVersion(), '-V, --version', 'print the version');

/** The package version (src/cli/program.ts and dist/cli/program.js both sit two levels below package.json). */
function packageVersion(): string {
  try {
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
export const fail = (message: string, code = 1): never => {
  process.stderr.write(`cloudops: ${message}\n`);
  process.exit(code);
};
const urlOption = (): Option => new Option('--url <url>', 'the daemon address').default(process.env['CLOUDOPS_URL'] ?? 'http://127.0.0.1:8080');

async function api(base: string, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    return fail(`cannot reach the daemon at ${base} (${errorMessage(err)}); is it running? (npm start)`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) return fail(`${res.status}: ${typeof body['error'] === 'string' ? body['error'] : res.statusText}`);
  return body;
}

program
  .command('run')
  .description('run the daemon')
  .requiredOption('--policy <file>', 'policy YAML (default: the CLOUDOPS_POLICY variable)', process.env['CLOUDOPS_POLICY'])
  .option('--port <port>', 'HTTP port (overrides the policy)', (v) => Number(v))
  .option('--data-dir <dir>', 'where state is kept (default: CLOUDOPS_DATA_DIR or the current directory)')
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--speed <n>', 'simulated cloud: virtual seconds per wall second (overrides the policy)', (v) => Number(v))
  .option('--json', 'stdout: one JSON object per line (incident opened, proposed, decided, moved, ended; a summary at the end); logs and console text on stderr')
  .action(async (o: { policy: string; port?: number; dataDir?: string; logLevel: string; speed?: number; json?: boolean }) => {
    try {
      const latency = Number(process.env['CLOUDOPS_SIM_ACTION_LATENCY_MS'] ?? 0);
      // Crash tests only: SIGKILL at a named lifecycle write (inert when unset).
      installFaultHook(process.env['CLOUDOPS_FAULT_KILL_AT']);
      const opts = {
        policyFile: o.policy,
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        ...(o.speed !== undefined ? { speed: o.speed } : {}),
        ...(latency > 0 ? { simActionLatencyMs: latency } : {}),
        logLevel: o.logLevel,
      };
      await (o.json ? runJson(opts) : runUntilSignalled(opts));
    } catch (err) {
      if (o.json) process.stdout.write(`${JSON.stringify({ type: 'run.error', error: errorMessage(err), ...(err instanceof PolicyInvalidError ? { errors: err.errors } : {}) })}\n`);
      if (err instanceof PolicyInvalidError) fail(err.message, 2);
      fail(errorMessage(err));
    }
  });

program
  .command('validate <file>')
  .description('check a policy file and the runbooks it names; prints FILE:LINE:COL: path: message for each problem and exits 2')
  .option('--json', 'machine-readable output: { valid, errors | counts }')
  .action((file: string, o: { json?: boolean }) => {
    try {
      const { policy, templates } = loadRunnablePolicy(file);
      const doc = policy.doc;
      if (o.json) return out(JSON.stringify({ file, valid: true, services: Object.keys(doc.services).length, metrics: doc.metrics.length, approvers: Object.keys(doc.approvers).length, runbooks: templates.length }));
      out(`${file}: valid (${Object.keys(doc.services).length} services, ${doc.metrics.length} metrics, ${Object.keys(doc.approvers).length} approvers, ${templates.length} runbooks)`);
      out(effectiveSafety(policy));
    } catch (err) {
      if (err instanceof PolicyInvalidError) {
        if (o.json) out(JSON.stringify({ file, valid: false, errors: err.errors }));
        else process.stderr.write(`${err.message}\n`);
        process.exit(2);
      }
      fail(errorMessage(err));
    }
  });

program
  .command('schema')
  .description('print the policy JSON Schema (config/policy.schema.json is generated from it)')
  .option('--json', 'accepted for symmetry: the schema is JSON')
  .action(() => out(JSON.stringify(policyJsonSchema(), null, 2)));

program
  .command('incidents')
  .description('list incidents, newest first')
  .option('--json', 'machine-readable output')
  .option('--state <state>', 'only incidents in this state (e.g. awaiting_approval, resolved)')
  .option('--service <name>', 'only incidents of this service')
  .addOption(urlOption())
  .action(async (o: { json?: boolean; url: string; state?: string; service?: string }) => {
    const q = new URLSearchParams({ ...(o.state ? { state: o.state } : {}), ...(o.service ? { service: o.service } : {}) }).toString();
    const body = await api(o.url, `/api/incidents${q ? `?${q}` : ''}`);
    if (o.json) return out(JSON.stringify(body, null, 2));
    const rows = (body['incidents'] as Record<string, unknown>[]) ?? [];
    if (rows.length === 0) return out(o.state || o.service ? 'no incidents match' : 'no incidents');
    for (const r of rows) {
      const mutes = (r['mutes'] as { id: string; by: string; reason: string; until: number }[] | undefined) ?? [];
      const muted = mutes.length ? `   muted: ${mutes.map((m) => `${m.id} by ${m.by} (${m.reason}) until ${new Date(m.until).toISOString()}`).join('; ')}` : '';
      out(`${String(r['id']).padEnd(34)} ${String(r['service']).padEnd(14)} ${STATE_LABEL[String(r['state'])] ?? String(r['state'])}   actions run: ${String(r['executedActions'])}${muted}`);
    }
  });

program
  .command('show <id>')
  .description('show one incident: suspect, evidence, runbook, decisions, what ran, timeline')
  .option('--json', 'machine-readable output')
  .option('--markdown', 'a postmortem in Markdown: summary and timeline')
  .option('--record', "the auditor's decision record, ending with the audit chain check")
  .addOption(urlOption())
  .action(async (id: string, o: { json?: boolean; markdown?: boolean; record?: boolean; url: string }) => {
    const path = `/api/incidents/${encodeURIComponent(id)}`;
    const body = (await api(o.url, path)) as unknown as IncidentDetail;
    const trail = (await api(o.url, `${path}/audit`)) as unknown as { records: AuditRecord[]; verification: AuditVerification };
    const ignored = body.quorum?.ignored ? { ignored: body.quorum.ignored } : {};
    if (o.record) {
      const lines = decisionRecord({ incident: body.incident, decisions: body.decisions, audit: trail.records, verification: trail.verification, ...ignored });
      if (o.json) out(JSON.stringify({ ...body, audit: trail.records, verification: trail.verification }, null, 2));
      else out(lines.join('\n'));
      if (!trail.verification.ok) process.exit(1);
      return;
    }
    if (o.markdown) return out(timelineMarkdown({ incident: body.incident, decisions: body.decisions, audit: trail.records, ...ignored }));
    if (o.json) return out(JSON.stringify({ ...body, timeline: buildTimeline({ incident: body.incident, decisions: body.decisions, audit: trail.records, ...ignored }) }, null, 2));
    out(showText(body, trail.records).join('\n'));
  });

const decide = (verdict: 'approve' | 'reject') => async (id: string, o: { as: string; url: string; reason?: string; json?: boolean }): Promise<void> => {
  const token = process.env['CLOUDOPS_TOKEN'] ?? demoToken(o.as);
  const detail = await api(o.url, `/api/incidents/${encodeURIComponent(id)}`);
  const inc = detail['incident'] as { runbook?: { hash: string; title: string } | null; state: string };
  if (!inc.runbook) fail(`incident ${id} has no runbook to ${verdict}`);
  const body = await api(o.url, `/api/incidents/${encodeURIComponent(id)}/${verdict}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ runbookHash: inc.runbook?.hash, as: o.as, via: 'cli', ...(o.reason ? { reason: o.reason } : {}) }),
  });
  if (o.json) return out(JSON.stringify(body, null, 2));
  out(`${o.as}: ${verdict} recorded for "${inc.runbook?.title ?? ''}" (${String(body['outcome'])}); incident is now ${STATE_LABEL[String(body['state'])] ?? String(body['state'])}`);
};

program.command('approve <id>').description('approve the runbook of an incident').requiredOption('--as <name>', 'approver name').option('--json', 'machine-readable output').addOption(urlOption()).action(decide('approve'));
program.command('reject <id>').description('reject the runbook of an incident').requiredOption('--as <name>', 'approver name').requiredOption('--reason <text>', 'why').option('--json', 'machine-readable output').addOption(urlOption()).action(decide('reject'));

const tokenFor = (as: string): string => process.env['CLOUDOPS_TOKEN'] ?? demoToken(as);
const silence = program.command('silence').description('silences: keep an anomaly recorded but quiet (no proposal, no notification) for a while');
silence
  .command('add')
  .description('silence a service (or one of its metrics) for a while')
  .requiredOption('--service <name>', 'the service')
  .option('--metric <metric>', 'only this metric (policy id or metric name)')
  .requiredOption('--for <duration>', 'how long, e.g. 30m, 2h, 1d (at most 14d)')
  .requiredOption('--reason <text>', 'why (shown on the incidents it mutes)')
  .requiredOption('--as <name>', 'approver name (the token is CLOUDOPS_TOKEN, else the demo token)')
  .option('--json', 'machine-readable output')
  .addOption(urlOption())
  .action(async (o: { service: string; metric?: string; for: string; reason: string; as: string; url: string; json?: boolean }) => {
    const body = await api(o.url, '/api/silences', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(o.as)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: o.service, ...(o.metric ? { metric: o.metric } : {}), for: o.for, reason: o.reason, as: o.as }),
    });
    if (o.json) return out(JSON.stringify(body, null, 2));
    const s = body['silence'] as { id: string; endsAt: number };
    out(`${s.id}: ${o.service}${o.metric ? `/${o.metric}` : ''} silenced until ${new Date(s.endsAt).toISOString()} by ${o.as}`);
  });
silence
  .command('list')
  .description('list silences and the policy\'s maintenance and freeze windows')
  .option('--json', 'machine-readable output')
  .option('--all', 'include ended silences')
  .addOption(urlOption())
  .action(async (o: { json?: boolean; all?: boolean; url: string }) => {
    const body = await api(o.url, `/api/silences${o.all ? '' : '?active=true'}`);
    if (o.json) return out(JSON.stringify(body, null, 2));
    const rows = (body['silences'] as { id: string; matchers: Record<string, string>; author: string; reason: string; endsAt: number; active: boolean }[]) ?? [];
    const windows = (body['windows'] as { id: string; services: string[]; reason: string; startsAt: number; endsAt: number; active: boolean }[]) ?? [];
    if (rows.length === 0) out(o.all ? 'no silences' : 'no active silences');
    for (const r of rows) out(`${r.id.padEnd(16)} ${Object.entries(r.matchers).map(([k, v]) => `${k}=${v}`).join(',').padEnd(36)} ${r.active ? 'until' : 'ended'} ${new Date(r.endsAt).toISOString()}  by ${r.author}: ${r.reason}`);
    for (const w of windows) out(`${w.id.padEnd(16)} ${(w.services.length ? w.services.join(',') : 'all services').padEnd(36)} ${new Date(w.startsAt).toISOString()} → ${new Date(w.endsAt).toISOString()}${w.active ? ' (now)' : ''}: ${w.reason}`);
  });
silence
  .command('expire <id>')
  .description('end a silence now')
  .requiredOption('--as <name>', 'approver name')
  .option('--json', 'machine-readable output')
  .addOption(urlOption())
  .action(async (id: string, o: { as: string; url: string; json?: boolean }) => {
    const body = await api(o.url, `/api/silences/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokenFor(o.as)}` } });
    if (o.json) return out(JSON.stringify(body, null, 2));
    out(`${id}: expired by ${o.as}`);
  });

program
  .command('token')
  .description('make a new approver token: give the token to the approver, put its sha256 in the policy')
  .option('--json', 'machine-readable output')
  .action((o: { json?: boolean }) => {
    const token = randomBytes(32).toString('base64url');
    if (o.json) return out(JSON.stringify({ token, tokenSha256: sha256Hex(token) }));
    out(`token:        ${token}\ntokenSha256:  ${sha256Hex(token)}`);
  });

registerAuditCommands(program, fail);
registerBacktest(program, fail);
registerMcp(program, fail);
registerFollowUps(program, fail);
registerStepCommands(program, fail);

