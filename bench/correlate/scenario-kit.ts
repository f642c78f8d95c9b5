/**
 * The vocabulary the scenario generators write in: services of the suite policy, their metrics and
 * baseline logs, deployments, events and truths, rendered as scenario documents.
 */
import { hashString } from '../../src/cloud/sim/random.js';

export type Svc = 'checkout' | 'payments' | 'inventory' | 'search' | 'auth';
export type Metric = 'HTTPCode_Target_5XX_Count' | 'TargetResponseTime' | 'CPUUtilization' | 'MemoryUtilization' | 'RequestCount';

export interface Effect { service?: Svc; metric: Metric; kind?: 'add' | 'multiply' | 'ramp'; value: number; max?: number; delay?: string; healedBy?: string; stage?: string }
export interface LogGen { service?: Svc; every: string; message: string; delay?: string; stage?: string }
export interface Silence { service?: Svc; match: string; delay?: string }
export interface Stage { name: string; at: string; duration?: string; share: number }
export interface Dep { id: string; pipeline: string; service: Svc; at?: string; stages?: Stage[]; rollbackOf?: string; status?: string; revision: { id: string; summary: string }; triggeredBy: string; changeSize?: number; effects?: Effect[]; logs?: LogGen[]; silences?: Silence[]; stageDuration?: string }
export interface Ev { name: string; at: string; until?: string; effects: Effect[]; logs?: LogGen[]; silences?: Silence[] }
export interface Truth { service: Svc; cause: string; onset: string; optional?: boolean }
export interface SvcOpts { noisy?: boolean; seasonal?: boolean; weekly?: number; daily?: number; noise?: number; gaps?: Partial<Record<Metric, { from: string; to: string }[]>> }
export interface Scn { name: string; description: string; duration?: string; history?: string; seed: number; start?: string; services: Partial<Record<Svc, SvcOpts>>; deployments?: Dep[]; events?: Ev[]; truth: Truth[] }

export const hex = (s: string, n: number): string => {
  let out = '';
  for (let i = 0; out.length < n; i++) out += hashString(`${s}#${i}`).toString(16).padStart(8, '0');
  return out.slice(0, n);
};
export const execId = (s: string): string => { const h = hex(s, 32); return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`; };
export const PEOPLE = ['erin@example.com', 'dave@example.com', 'frank@example.com', 'grace@example.com', 'heidi@example.com'];

/** A deployment of `service` whose deploy stage finished at `at` (undefined with `stages`). */
export function dep(tag: string, service: Svc, at: string | undefined, summary: string, more: Partial<Dep> = {}): Dep {
  return { id: execId(tag), pipeline: `${service}-deploy`, service, ...(at !== undefined ? { at } : {}), revision: { id: hex(tag + 'rev', 7), summary }, triggeredBy: PEOPLE[hashString(tag) % PEOPLE.length] ?? 'webhook', ...more };
}

export const BASE_LOGS: Record<Svc, { every: string; message: string }[]> = {
  checkout: [
    { every: '15s', message: 'GET /cart/{int:1000-9999} 200 in {int:20-90}ms request_id={uuid}' },
    { every: '40s', message: 'POST /checkout 201 order={int:100000-999999} in {int:80-200}ms' },
  ],
  payments: [{ every: '20s', message: 'authorized payment {uuid} amount={int:1-500}.{int:10-99} EUR' }, { every: '90s', message: 'WARN card network slow response {int:400-900}ms acquirer=acq{int:1-3}' }],
  inventory: [{ every: '20s', message: 'reserved sku={int:10000-99999} qty={int:1-5} warehouse=wh{int:1-4}' }],
  search: [{ every: '10s', message: 'query q_hash={hex} hits={int:0-400} in {int:5-60}ms' }],
  auth: [{ every: '12s', message: 'issued token for client={int:100-999} ttl=3600 from {ip}' }],
};

export function metrics(service: Svc, o: SvcOpts): Record<string, unknown> {
  const n = (o.noisy ? 2 : 1) * (o.noise ?? 1);
  const d = (o.seasonal ? 3 : 1) * (o.daily ?? 1);
  const w: Record<string, number> = o.weekly !== undefined ? { weekly: o.weekly } : {};
  const m: Record<string, { baseline: Record<string, number>; gaps?: { from: string; to: string }[] }> = {
    HTTPCode_Target_5XX_Count: { baseline: { level: 3, noise: 1.2 * n, ...(o.noisy ? { spikes: 0.01 } : {}) } },
    TargetResponseTime: { baseline: { level: 0.18, noise: 0.02 * n, daily: 0.1 * d, ...w } },
    CPUUtilization: { baseline: { level: 35, noise: 3 * n, daily: 0.1 * d, ...w } },
    MemoryUtilization: { baseline: { level: 45, noise: 1.5 * n } },
  };
  if (service === 'checkout') m['RequestCount'] = { baseline: { level: 1200, noise: 40 * n, daily: 0.1 * d, ...w } };
  for (const [k, g] of Object.entries(o.gaps ?? {})) if (m[k]) m[k].gaps = g;
  return m;
}

export function doc(s: Scn): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(s.services)) services[name] = { metrics: metrics(name as Svc, o), logs: BASE_LOGS[name as Svc] };
  return {
    name: s.name,
    description: s.description,
    ...(s.start ? { start: s.start } : {}),
    // Most onsets come after a day of history, so the warm-started detector — not the cold-start guard — judges them.
    history: s.history ?? '1d',
    duration: s.duration ?? '40m',
    seed: s.seed,
    services,
    deployments: s.deployments ?? [],
    events: s.events ?? [],
    truth: s.truth,
  };
}

export const ERR = {
  npe: 'ERROR NullPointerException in {cls}.handle request_id={uuid}',
  timeout: 'ERROR upstream timeout after {int:2000-3000}ms calling {dep} request_id={uuid}',
  pool: 'ERROR connection pool exhausted (active={int:50-50} waiting={int:10-90})',
  oom: 'ERROR OutOfMemoryError: Java heap space in worker-{int:1-16}',
  schema: "ERROR column \"{col}\" does not exist at character {int:10-90}",
  dns: 'ERROR getaddrinfo EAI_AGAIN {dep}.internal',
};
export const err = (k: keyof typeof ERR, fill: Record<string, string> = {}): string => ERR[k].replace(/\{(cls|dep|col)\}/g, (_m, x: string) => fill[x] ?? x);

