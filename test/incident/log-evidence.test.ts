import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/cloud/ports.js';
import { MINUTE, type EpochMs } from '../../src/core/time.js';
import { logEvidence } from '../../src/incident/log-evidence.js';

const T = Date.parse('2026-11-02T08:00:00Z');
const at = (min: number): EpochMs => (T + min * MINUTE) as EpochMs;
const baseline = { start: at(-30), end: at(0) };
const onset = { start: at(0), end: at(15) };

/** `count` lines spread evenly over [from, to) minutes, made by `line(i)`. */
function spread(from: number, to: number, count: number, line: (i: number) => string): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({ t: (at(from) + Math.floor(((to - from) * MINUTE * i) / count)) as EpochMs, group: '/ecs/checkout', message: line(i) }));
}

const uuid = (i: number): string => `3f2a9c1e-7b4d-4e2a-9c61-${String(100000000000 + i * 7919).slice(-12)}`;
const access = (status: number) => (i: number): string => `10.0.${i % 9}.${(i * 37) % 250} - - "GET /api/cart/${8000 + i} HTTP/1.1" ${status} ${300 + (i % 200)} rt=0.0${10 + (i % 80)} request_id=${uuid(i)}`;
const info = (i: number): string => `2026-11-02T07:${String(30 + (i % 30)).padStart(2, '0')}:11.123Z INFO [http-nio-8080-exec-${i % 10}] c.e.checkout.CartController - cart ${8000 + i} loaded in ${20 + (i % 50)} ms`;
const warn = (i: number): string => `WARN card network slow response ${400 + (i % 500)}ms acquirer=acq${1 + (i % 3)}`;
const timeout = (i: number): string => `ERROR PaymentClientV2 timeout after ${2000 + i}ms calling payments order=${100000 + i * 13} customer=erin@example.com token=sk_live_${4000 + i}abcdef`;

describe('log evidence: templates new or grown sharply after the onset', () => {
  const records: LogRecord[] = [
    ...spread(-30, 15, 450, info),
    ...spread(-30, 15, 450, access(200)),
    ...spread(-30, 0, 10, warn),
    ...spread(0, 15, 40, warn),
    ...spread(1, 15, 120, timeout),
    ...spread(0, 15, 60, access(500)),
  ];
  const ev = logEvidence({ groups: ['/ecs/checkout'], records, baseline, onset });

  it('reports the new error template first, with its counts and masked variables', () => {
    const first = ev.templates[0];
    expect(first).toMatchObject({ isNew: true, baselineCount: 0, onsetCount: 120 });
    expect(first?.template).toBe('ERROR PaymentClientV2 timeout after <NUM> calling payments order=<NUM> customer=<email> <*>');
  });

  it('samples are real lines with secrets and e-mail addresses redacted, at most three', () => {
    const s = ev.templates[0]?.samples ?? [];
    expect(s).toHaveLength(3);
    expect(s[0]).toBe('ERROR PaymentClientV2 timeout after 2000ms calling payments order=100000 customer=<email> token=<redacted>');
    expect(s.join(' ')).not.toMatch(/erin@example\.com|sk_live/);
  });

  it('a known template whose only change is a categorical field reports the new value (status 500), not the old template', () => {
    const t500 = ev.templates.find((t) => t.template.includes(' 500 '));
    expect(t500).toMatchObject({ isNew: true, baselineCount: 0, onsetCount: 60 });
    expect(t500?.template).toBe('<IP> - - "GET /api/cart/<NUM> HTTP/<NUM>" 500 <*> rt=<NUM> request_id=<UUID>');
    expect(ev.templates.some((t) => t.template.includes(' 200 '))).toBe(false);
  });

  it('a template that grew sharply (rate per minute) is reported with its growth; steady ones are not', () => {
    const w = ev.templates.find((t) => t.template.startsWith('WARN card network slow response'));
    expect(w).toMatchObject({ isNew: false, baselineCount: 10, onsetCount: 40 });
    expect(w?.growth).toBeCloseTo((40 / 15) / (10.5 / 30), 1);
    expect(ev.templates.some((t) => t.template.includes('CartController'))).toBe(false);
  });

  it('a categorical value that was there before but grew sharply is reported with that value', () => {
    const e = logEvidence({ groups: [], records: [...spread(-30, 15, 900, access(200)), ...spread(-30, 0, 4, access(503)), ...spread(0, 15, 45, access(503))], baseline, onset });
    expect(e.templates).toHaveLength(1);
    expect(e.templates[0]).toMatchObject({ isNew: false, baselineCount: 4, onsetCount: 45, template: '<IP> - - "GET /api/cart/<NUM> HTTP/<NUM>" 503 <*> rt=<NUM> request_id=<UUID>' });
  });

  it('counts the lines of each window', () => {
    expect(ev.baseline).toEqual({ ...baseline, lines: 300 + 300 + 10 });
    expect(ev.onset).toEqual({ ...onset, lines: 150 + 150 + 40 + 120 + 60 });
    expect(ev.groups).toEqual(['/ecs/checkout']);
  });

  it('ignores lines outside both windows, and reports at most maxTemplates', () => {
    const late = logEvidence({ groups: [], records: [...records, ...spread(20, 25, 50, (i) => `FATAL out of memory in worker ${i}`)], baseline, onset, maxTemplates: 1 });
    expect(late.templates).toHaveLength(1);
    expect(late.templates[0]?.template).toMatch(/^ERROR PaymentClientV2/);
  });

  it('a single stray new line is not evidence (minCount 2)', () => {
    const one = logEvidence({ groups: [], records: [...spread(-30, 15, 90, info), { t: at(3), group: 'g', message: 'DEBUG cache warmed by admin' }], baseline, onset });
    expect(one.templates).toEqual([]);
  });

  it('nothing changed: no templates', () => {
    expect(logEvidence({ groups: [], records: spread(-30, 15, 900, info), baseline, onset }).templates).toEqual([]);
    expect(logEvidence({ groups: [], records: [], baseline, onset })).toMatchObject({ templates: [], baseline: { lines: 0 }, onset: { lines: 0 } });
  });

  it('is bounded: a flood of distinct lines does not grow the miner past its cluster cap', () => {
    const flood = spread(0, 15, 5000, (i) => `event${i} kind${i % 97} happened`);
    const e = logEvidence({ groups: [], records: flood, baseline, onset, drain: { maxClusters: 50 } });
    expect(e.onset.lines).toBe(5000);
    expect(e.templates.length).toBeLessThanOrEqual(5);
  });
});
