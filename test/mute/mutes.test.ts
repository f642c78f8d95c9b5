import { describe, expect, it } from 'vitest';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { correlate } from '../../src/incident/correlate.js';
import { freezeAt, groupMutes, MuteError, muteRecords, mutes, notificationMutes, windowBounds, type MuteSources, type PolicyWindow, type SilenceLike } from '../../src/mute/mutes.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;
const iso = (min: number): string => new Date(at(min)).toISOString();

const silence = (id: string, matchers: Record<string, string>, from = -10, to = 60): SilenceLike => ({ id, matchers, author: 'alice', reason: 'schema migration', startsAt: at(from), endsAt: at(to) });
const window = (name: string, services: string[], from: number, to: number, reason = 'planned'): PolicyWindow => ({ name, services, start: iso(from), end: iso(to), reason });
const none: MuteSources = { silences: [], maintenance: [], freezes: [] };

describe('mutes(labels, now): one answer for silences, maintenance and freezes', () => {
  it('a service silence matches every metric of that service, and only that service', () => {
    const src = { ...none, silences: [silence('sil-1', { service: 'checkout' })] };
    expect(mutes(src, { service: 'checkout', metric: 'TargetResponseTime' }, at(0))).toEqual([
      { kind: 'silence', id: 'sil-1', reason: 'schema migration', author: 'alice', startsAt: at(-10), endsAt: at(60) },
    ]);
    expect(mutes(src, { service: 'checkout' }, at(0))).toHaveLength(1);
    expect(mutes(src, { service: 'payments', metric: 'TargetResponseTime' }, at(0))).toEqual([]);
  });

  it('a metric silence matches the metric by name or policy id, not the service\'s other metrics', () => {
    const src = { ...none, silences: [silence('sil-n', { service: 'checkout', metric: 'HTTPCode_Target_5XX_Count' }), silence('sil-i', { service: 'checkout', metric: 'checkoutLatency' })] };
    expect(mutes(src, { service: 'checkout', metric: 'HTTPCode_Target_5XX_Count', metricId: 'checkout5xx' }, at(0)).map((m) => m.id)).toEqual(['sil-n']);
    expect(mutes(src, { service: 'checkout', metric: 'TargetResponseTime', metricId: 'checkoutLatency' }, at(0)).map((m) => m.id)).toEqual(['sil-i']);
    expect(mutes(src, { service: 'checkout', metric: 'CPUUtilization', metricId: 'checkoutCpu' }, at(0))).toEqual([]);
    expect(mutes(src, { service: 'checkout' }, at(0))).toEqual([]);
  });

  it('an unknown matcher label never matches (rather than matching too much)', () => {
    expect(mutes({ ...none, silences: [silence('s', { service: 'checkout', region: 'eu-west-1' })] }, { service: 'checkout' }, at(0))).toEqual([]);
  });

  it('a mute is in force from its start (inclusive) to its end (exclusive)', () => {
    const src = { ...none, silences: [silence('s', { service: 'checkout' }, 0, 30)], maintenance: [window('db', [], 0, 30)] };
    expect(mutes(src, { service: 'checkout' }, at(-1))).toEqual([]);
    expect(mutes(src, { service: 'checkout' }, at(0)).map((m) => m.id)).toEqual(['s', 'maintenance:db']);
    expect(mutes(src, { service: 'checkout' }, at(29)).map((m) => m.id)).toEqual(['s', 'maintenance:db']);
    expect(mutes(src, { service: 'checkout' }, at(30))).toEqual([]);
  });

  it('a window with no services covers every service; one with services covers only those', () => {
    const src = { ...none, maintenance: [window('all', [], 0, 30), window('pay', ['payments'], 0, 30, 'card network upgrade')] };
    expect(mutes(src, { service: 'checkout' }, at(5)).map((m) => m.id)).toEqual(['maintenance:all']);
    expect(mutes(src, { service: 'payments' }, at(5))).toEqual([
      { kind: 'maintenance', id: 'maintenance:all', reason: 'planned', author: 'policy', startsAt: at(0), endsAt: at(30) },
      { kind: 'maintenance', id: 'maintenance:pay', reason: 'card network upgrade', author: 'policy', startsAt: at(0), endsAt: at(30) },
    ]);
  });

  it('freezes answer mutes() but do not mute notifications', () => {
    const src = { ...none, freezes: [window('black-friday', ['checkout'], 0, 600, 'Black Friday')] };
    expect(mutes(src, { service: 'checkout' }, at(5)).map((m) => [m.kind, m.id])).toEqual([['freeze', 'freeze:black-friday']]);
    expect(notificationMutes(src, { service: 'checkout' }, at(5))).toEqual([]);
    expect(freezeAt(src, 'checkout', at(5))?.reason).toBe('Black Friday');
    expect(freezeAt(src, 'payments', at(5))).toBeNull();
  });

  it('a window whose times do not parse, or end before they start, is a clear error', () => {
    expect(() => windowBounds({ name: 'w', services: [], start: 'tomorrow', end: iso(5), reason: 'x' })).toThrow(new MuteError('window "w": start and end must be ISO 8601 times with an offset'));
    expect(() => windowBounds(window('w', [], 10, 5))).toThrow(/window "w": end \(.*\) is not after start/);
  });
});

describe('groupMutes: an incident is muted only when every one of its signals is', () => {
  const metrics = [
    { metricId: 'checkout5xx', metricName: 'HTTPCode_Target_5XX_Count' },
    { metricId: 'checkoutLatency', metricName: 'TargetResponseTime' },
  ];

  it('one metric silenced, the other not: not muted (the unsilenced signal is news)', () => {
    expect(groupMutes({ ...none, silences: [silence('s', { service: 'checkout', metric: 'checkout5xx' })] }, 'checkout', metrics, at(0))).toEqual([]);
  });

  it('both covered (by different mutes): muted, with the mute per metric', () => {
    const src = { ...none, silences: [silence('s', { service: 'checkout', metric: 'checkout5xx' })], maintenance: [window('lb', ['checkout'], -5, 20, 'load balancer swap')] };
    const found = groupMutes(src, 'checkout', metrics, at(0));
    expect(found.map((f) => [f.metricId, f.mute.id])).toEqual([
      ['checkout5xx', 's'],
      ['checkout5xx', 'maintenance:lb'],
      ['checkoutLatency', 'maintenance:lb'],
    ]);
    expect(muteRecords(found, at(1))).toEqual([
      { id: 's', by: 'alice', kind: 'silence', reason: 'schema migration', at: at(1), until: at(60), metrics: ['checkout5xx'] },
      { id: 'maintenance:lb', by: 'policy', kind: 'maintenance', reason: 'load balancer swap', at: at(1), until: at(20), metrics: ['checkout5xx', 'checkoutLatency'] },
    ]);
  });

  it('no signals: nothing to mute', () => {
    expect(groupMutes({ ...none, maintenance: [window('all', [], -5, 20)] }, 'checkout', [], at(0))).toEqual([]);
  });
});

describe('a deployment freeze in correlation', () => {
  it('a deploy that landed during a freeze of its service says so and ranks higher than the same deploy outside one', () => {
    const deployment = { id: 'hotfix', pipeline: 'checkout-deploy', status: 'Succeeded' as const, startedAt: at(-20), deployStartedAt: at(-8), deployEndedAt: at(-5), endedAt: at(-4) };
    const input = { service: 'checkout', onsetAt: at(0), lookbackMs: 360 * MINUTE, deployments: [deployment], pipelineServices: new Map([['checkout-deploy', ['checkout']]]), otherOnsets: [] };
    const plain = correlate(input);
    const frozen = correlate({ ...input, freezes: [window('black-friday', ['checkout'], -600, 600, 'Black Friday sales')] });
    expect(frozen.suspect?.reasons).toContain('it was deployed during the deployment freeze black-friday (Black Friday sales), when no release was expected');
    expect(frozen.suspect?.score).toBeGreaterThan(plain.suspect?.score ?? 1);
    const elsewhere = correlate({ ...input, freezes: [window('pay', ['payments'], -600, 600)] });
    expect(elsewhere.suspect?.reasons.join(' ')).not.toMatch(/freeze/);
  });
});
