import { createHash } from 'node:crypto';
import { validate as validCron } from 'node-cron';
import { parseDuration } from '../core/time.js';
import { ACTION_NAMES, catalogueEntry, paramNames } from '../actions/catalogue.js';
import type { PolicyDoc } from './schema.js';

/** A problem found after the schema passed: where (a path into the document) and what. */
export interface PolicyProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Approvers a quorum's `from` list expands to: group names become their members. */
export function expandPrincipals(policy: PolicyDoc, from: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const p of from) {
    const group = policy.groups[p];
    if (group) group.forEach((m) => out.add(m));
    else if (policy.approvers[p]) out.add(p);
  }
  return out;
}

/** Cross-references the schema cannot see: every name must point at something that exists. */
export function crossCheck(policy: PolicyDoc): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const services = new Set(Object.keys(policy.services));
  const approvers = new Set(Object.keys(policy.approvers));
  const groups = new Set(Object.keys(policy.groups));
  const isPrincipal = (p: string): boolean => approvers.has(p) || groups.has(p);

  const ids = new Map<string, number>();
  policy.metrics.forEach((m, i) => {
    if (!services.has(m.service)) {
      problems.push({ path: ['metrics', i, 'service'], message: `unknown service "${m.service}" (known: ${[...services].join(', ')})` });
    }
    const seen = ids.get(m.id);
    if (seen !== undefined) problems.push({ path: ['metrics', i, 'id'], message: `duplicate metric id "${m.id}" (also metrics.${seen}.id)` });
    else ids.set(m.id, i);
    if (m.expression === undefined && (m.namespace === undefined || m.metricName === undefined)) {
      problems.push({ path: ['metrics', i], message: 'a metric needs namespace and metricName, or an expression' });
    }
    const kind = m.detector?.kind ?? policy.detection.kind;
    if (kind === 'cloudwatchBand' && policy.cloud.kind !== 'aws') {
      problems.push({ path: ['metrics', i, 'detector', 'kind'], message: "'cloudwatchBand' needs cloud.kind: aws (CloudWatch computes the band)" });
    }
    if (kind === 'cloudwatchBand' && m.expression !== undefined) {
      problems.push({ path: ['metrics', i, 'detector', 'kind'], message: "'cloudwatchBand' works on a metric, not on a metric-math expression" });
    }
    if (m.expression !== undefined && m.namespace !== undefined) {
      problems.push({ path: ['metrics', i, 'expression'], message: 'give either an expression or namespace/metricName, not both' });
    }
  });

  for (const [svc, s] of Object.entries(policy.services)) {
    s.dependsOn.forEach((dep, i) => {
      if (!services.has(dep)) problems.push({ path: ['services', svc, 'dependsOn', i], message: `unknown service "${dep}"` });
    });
    if (!policy.metrics.some((m) => m.service === svc)) {
      problems.push({ path: ['services', svc], message: `service "${svc}" has no metric watching it` });
    }
  }

  for (const [g, members] of Object.entries(policy.groups)) {
    members.forEach((m, i) => {
      if (!approvers.has(m)) problems.push({ path: ['groups', g, i], message: `unknown approver "${m}"` });
    });
  }

  for (const level of ['low', 'medium', 'high'] as const) {
    const q = policy.approval.quorum[level];
    q.from.forEach((p, i) => {
      if (!isPrincipal(p)) problems.push({ path: ['approval', 'quorum', level, 'from', i], message: `unknown approver or group "${p}"` });
    });
    const pool = expandPrincipals(policy, q.from).size;
    if (q.from.every(isPrincipal) && q.approvals > pool) {
      problems.push({ path: ['approval', 'quorum', level, 'approvals'], message: `needs ${q.approvals} distinct approvals but only ${pool} approver(s) can give one` });
    }
  }
  policy.approval.escalation?.to.forEach((p, i) => {
    if (!isPrincipal(p)) problems.push({ path: ['approval', 'escalation', 'to', i], message: `unknown approver or group "${p}"` });
  });

  problems.push(...accountProblems(policy));
  problems.push(...identityProblems(policy));
  problems.push(...timingProblems(policy));

  problems.push(...catalogueProblems(policy));
  for (const [name, action] of Object.entries(policy.actions)) {
    for (const [param, rule] of Object.entries(action.params)) {
      if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
        problems.push({ path: ['actions', name, 'params', param, 'min'], message: `min ${rule.min} is above max ${rule.max}` });
      }
      if (rule.pattern === undefined) continue;
      try {
        new RegExp(rule.pattern);
      } catch {
        problems.push({ path: ['actions', name, 'params', param, 'pattern'], message: `invalid regular expression ${JSON.stringify(rule.pattern)}` });
      }
    }
  }

  for (const key of ['maintenance', 'freezes'] as const) {
    policy[key].forEach((w, i) => {
      w.services.forEach((s, j) => {
        if (!services.has(s)) problems.push({ path: [key, i, 'services', j], message: `unknown service "${s}"` });
      });
      if (Date.parse(w.end) <= Date.parse(w.start)) problems.push({ path: [key, i, 'end'], message: 'end must be after start' });
    });
  }
  if (!validCron(policy.schedule.cron)) problems.push({ path: ['schedule', 'cron'], message: `invalid cron expression "${policy.schedule.cron}"` });
  return problems;
}

/** The token the demo prints for an approver (config/demo.yaml documents them): public, so never for a real account. */
export const demoToken = (approver: string): string => `demo-token-${approver}`;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
/** The approvers of config/demo.yaml, whose demo tokens are published. */
const DEMO_APPROVERS = ['alice', 'bob', 'carol'];

/**
 * One person, one identity: an email, Slack id or token hash shared by two approvers would let one
 * person count twice towards a quorum (or be unattributable). Outside the simulated cloud, a token
 * hash of a published demo token would let anybody approve.
 */
function identityProblems(policy: PolicyDoc): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const demoHashes = new Map<string, string>();
  for (const n of [...DEMO_APPROVERS, ...Object.keys(policy.approvers)]) demoHashes.set(sha256(demoToken(n)), demoToken(n));
  const seen = { email: new Map<string, string>(), slackUserId: new Map<string, string>(), tokenSha256: new Map<string, string>() };
  const label = { email: (v: string) => `email ${v}`, slackUserId: (v: string) => `Slack user ${v}`, tokenSha256: () => 'token hash' };
  for (const [name, a] of Object.entries(policy.approvers)) {
    for (const key of ['email', 'slackUserId', 'tokenSha256'] as const) {
      const value = a[key];
      if (value === undefined) continue;
      // Email addresses compare case-insensitively (the domain always, the local part at every provider we know).
      const norm = key === 'email' ? value.toLowerCase() : value;
      const other = seen[key].get(norm);
      if (other !== undefined) problems.push({ path: ['approvers', name, key], message: `${label[key](value)} is also approver "${other}"` });
      else seen[key].set(norm, name);
    }
    const demo = a.tokenSha256 !== undefined ? demoHashes.get(a.tokenSha256) : undefined;
    if (demo !== undefined && policy.cloud.kind !== 'sim') {
      problems.push({ path: ['approvers', name, 'tokenSha256'], message: `this is the hash of the public demo token "${demo}"; make a new one with \`cloudops token\`` });
    }
  }
  return problems;
}

/** Reminders and escalation must fire while the request is still open, i.e. before the TTL. */
function timingProblems(policy: PolicyDoc): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const a = policy.approval;
  const ttl = parseDuration(a.ttl);
  a.reminders.forEach((r, i) => {
    if (parseDuration(r) >= ttl) problems.push({ path: ['approval', 'reminders', i], message: `reminder at ${r} is not before the ttl (${a.ttl}): it would never be sent` });
  });
  if (a.escalation && parseDuration(a.escalation.after) >= ttl) {
    problems.push({ path: ['approval', 'escalation', 'after'], message: `escalation after ${a.escalation.after} is not before the ttl (${a.ttl}): it would never happen` });
  }
  return problems;
}

/**
 * Every allow-listed action must be one the catalogue defines, with parameters it takes; an SSM Automation
 * needs the documents it may start listed (an open `documentName` would let a runbook start any document).
 */
function catalogueProblems(policy: PolicyDoc): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const [name, action] of Object.entries(policy.actions)) {
    const entry = catalogueEntry(name);
    if (!entry) {
      problems.push({ path: ['actions', name], message: `unknown action "${name}" (the catalogue has: ${ACTION_NAMES.join(', ')})` });
      continue;
    }
    const known = paramNames(name);
    for (const param of Object.keys(action.params)) {
      if (!known.includes(param)) problems.push({ path: ['actions', name, 'params', param], message: `${name} takes no parameter "${param}" (it takes: ${known.join(', ')})` });
    }
    if (entry.action.name === 'ssm.startAutomation' && action.params['documentName']?.enum === undefined) {
      problems.push({ path: ['actions', name, 'params', 'documentName'], message: 'ssm.startAutomation needs documentName.enum: the documents it may start' });
    }
  }
  return problems;
}

/**
 * The `accounts` list (issue 16 item 5): names are unique, a role lives in its own account, and every
 * service is watched by exactly one account entry (a service in two would be two shards acting on it).
 */
function accountProblems(policy: PolicyDoc): PolicyProblem[] {
  const accounts = policy.accounts;
  if (!accounts) return [];
  const problems: PolicyProblem[] = [];
  const services = Object.keys(policy.services);
  const names = new Map<string, number>();
  const holder = new Map<string, string>();
  accounts.forEach((a, i) => {
    const seen = names.get(a.name);
    if (seen !== undefined) problems.push({ path: ['accounts', i, 'name'], message: `duplicate account "${a.name}" (also accounts.${seen}.name)` });
    else names.set(a.name, i);
    a.regions.forEach((r, j) => {
      if (a.regions.indexOf(r) !== j) problems.push({ path: ['accounts', i, 'regions', j], message: `region ${r} is listed twice` });
    });
    const roleAccount = a.roleArn ? /::(\d{12}):/.exec(a.roleArn)?.[1] : undefined;
    if (roleAccount !== undefined && roleAccount !== a.id) problems.push({ path: ['accounts', i, 'roleArn'], message: `the role is in account ${roleAccount}, not in this account (${a.id})` });
    const roleName = a.roleArn?.split('/').pop();
    if (roleName !== undefined && !roleName.startsWith('cloudops-')) problems.push({ path: ['accounts', i, 'roleArn'], message: `the role name must start with cloudops- (iam-policy.json lets the task assume only those), got "${roleName}"` });
    if (a.externalId !== undefined && a.roleArn === undefined) problems.push({ path: ['accounts', i, 'externalId'], message: 'an external id needs a roleArn to assume' });
    if (a.scenario !== undefined && policy.cloud.kind !== 'sim') problems.push({ path: ['accounts', i, 'scenario'], message: 'a scenario needs cloud.kind: sim' });
    const held = a.services === 'all' ? services : a.services;
    held.forEach((svc, j) => {
      const at = a.services === 'all' ? ['accounts', i, 'services'] : ['accounts', i, 'services', j];
      if (!policy.services[svc]) {
        problems.push({ path: at, message: `unknown service "${svc}" (known: ${services.join(', ')})` });
        return;
      }
      const other = holder.get(svc);
      if (other !== undefined && other !== a.name) problems.push({ path: at, message: `service "${svc}" is also held by account "${other}": a service belongs to one account (one shard per region acts on it)` });
      else holder.set(svc, a.name);
    });
  });
  for (const svc of services) {
    if (!holder.has(svc)) problems.push({ path: ['services', svc], message: `service "${svc}" is in no account's services: nothing would watch it` });
  }
  return problems;
}
