import { createHash } from 'node:crypto';
import { HOUR, MINUTE, parseDuration, type EpochMs } from '../core/time.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Silence, Store } from '../store/store.js';
import { MuteError, type MuteSources } from './mutes.js';

/** A silence longer than this is a policy change in disguise: put it in the policy's maintenance windows. */
export const MAX_SILENCE_MS = 14 * 24 * HOUR;
export const MIN_SILENCE_MS = MINUTE;

export interface SilenceRequest {
  readonly service: string;
  readonly metric?: string;
  /** A duration such as 30m, 2h, 1d. */
  readonly for: string;
  readonly reason: string;
  readonly author: string;
}

/**
 * Checks a silence request against the policy and builds the silence, starting `now`. Throws MuteError
 * with a message fit to show the person who asked (unknown service, metric of another service, bad
 * or too long duration, missing reason).
 */
export function buildSilence(policy: CompiledPolicy, req: SilenceRequest, now: number): Silence {
  const services = Object.keys(policy.doc.services);
  if (!services.includes(req.service)) throw new MuteError(`unknown service "${req.service}" (the policy has ${services.join(', ')})`);
  const matchers: Record<string, string> = { service: req.service };
  if (req.metric !== undefined) {
    const own = policy.metrics.filter((m) => m.service === req.service);
    if (!own.some((m) => m.id === req.metric || m.metricName === req.metric)) {
      throw new MuteError(`service ${req.service} has no metric "${req.metric}" (its metrics: ${own.map((m) => `${m.id} (${m.metricName})`).join(', ') || 'none'})`);
    }
    matchers['metric'] = req.metric;
  }
  let ms: number;
  try {
    ms = parseDuration(req.for);
  } catch {
    throw new MuteError(`invalid duration "${req.for}" (expected e.g. 30m, 2h, 1d)`);
  }
  if (ms < MIN_SILENCE_MS) throw new MuteError(`a silence lasts at least 1m, not ${req.for}`);
  if (ms > MAX_SILENCE_MS) throw new MuteError(`a silence lasts at most 14d, not ${req.for}; put longer planned work in the policy's maintenance windows`);
  const reason = req.reason.trim();
  if (reason.length === 0) throw new MuteError('a silence needs a reason');
  if (reason.length > 500) throw new MuteError('the reason is over 500 characters');
  const author = req.author.trim();
  if (author.length === 0) throw new MuteError('a silence needs an author');
  const id = `sil-${createHash('sha256').update(`${author}\n${JSON.stringify(matchers)}\n${now}\n${reason}`).digest('hex').slice(0, 10)}`;
  return { id, matchers, author, reason, startsAt: now as EpochMs, endsAt: (now + ms) as EpochMs, createdAt: now as EpochMs };
}

/** Stores a new silence with its audit record. */
export async function addSilence(store: Store, policy: CompiledPolicy, req: SilenceRequest, now: number): Promise<Silence> {
  const s = buildSilence(policy, req, now);
  if ((await store.listSilences()).some((x) => x.id === s.id)) throw new MuteError(`silence ${s.id} already exists`, 409);
  await store.addSilence(s, { at: now as EpochMs, incidentId: null, kind: 'silence.added', actor: s.author, data: { id: s.id, matchers: s.matchers, reason: s.reason, endsAt: s.endsAt } });
  return s;
}

/**
 * Ends a silence now (it stays listed, expired, for the record). Throws MuteError when there is no
 * such silence or it already ended.
 */
export async function expireSilence(store: Store, id: string, by: string, now: number): Promise<Silence> {
  const s = (await store.listSilences()).find((x) => x.id === id);
  if (!s) throw new MuteError(`no silence ${id}`, 404);
  if (s.endsAt <= now) throw new MuteError(`silence ${id} already ended at ${new Date(s.endsAt).toISOString()}`, 409);
  await store.expireSilence(id, now as EpochMs, { at: now as EpochMs, incidentId: null, kind: 'silence.expired', actor: by, data: { id, matchers: s.matchers } });
  return { ...s, endsAt: now as EpochMs };
}

/** Silences with whether each is in force at `now`, newest first. */
export async function listSilences(store: Store, now: number): Promise<(Silence & { active: boolean })[]> {
  return (await store.listSilences()).map((s) => ({ ...s, active: now >= s.startsAt && now < s.endsAt })).sort((a, b) => b.createdAt - a.createdAt);
}

/** Everything that can mute, for one cycle: stored silences and the policy's windows. */
export async function muteSources(store: Store, policy: CompiledPolicy): Promise<MuteSources> {
  return { silences: await store.listSilences(), maintenance: policy.doc.maintenance, freezes: policy.doc.freezes };
}
