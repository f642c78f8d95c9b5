import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemClock, VirtualClock } from '../../src/core/clock.js';
import { HOUR, epochMs } from '../../src/core/time.js';
import { readiness } from '../../src/pipeline/readiness.js';
import { runSchedule } from '../../src/pipeline/schedule.js';

afterEach(() => vi.useRealTimers());

/** Runs a schedule of `intervalMs` on `clock` under fake timers; returns the cycle count and a stopper. */
function scheduled(clock: SystemClock | VirtualClock, intervalMs: number, speed: number): { count: () => number; lastSuccess: () => number | null; stop: () => Promise<void> } {
  let n = 0;
  let last: number | null = null;
  const ctl = new AbortController();
  const loop = runSchedule({
    intervalMs,
    speed,
    sleep: (ms, signal) => clock.sleep(ms, signal),
    cycle: async () => {
      n++;
      last = performance.now();
    },
    signal: ctl.signal,
  });
  return {
    count: () => n,
    lastSuccess: () => last,
    stop: async () => {
      ctl.abort();
      await loop;
    },
  };
}

describe('the schedule survives wall-clock steps', () => {
  for (const step of [-HOUR, HOUR]) {
    it(`real clock: a ${step < 0 ? 'backward' : 'forward'} step of one hour neither stops nor floods polling, and /readyz stays truthful`, async () => {
      // Prepare
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      const s = scheduled(new SystemClock(), 60_000, 1);
      await vi.advanceTimersByTimeAsync(3 * 60_000);
      const before = s.count();

      // Act: the wall clock steps, then ten minutes pass.
      vi.setSystemTime(Date.now() + step);
      await vi.advanceTimersByTimeAsync(10 * 60_000);

      // Assess: ten more cycles, not zero (backward) and not sixty (forward catch-up).
      expect(before).toBe(4);
      expect(s.count() - before).toBe(10);
      const r = readiness({ phase: 'running', lastSuccessMono: s.lastSuccess(), lastError: null, nowMono: performance.now(), maxAgeMs: 3 * 60_000 });
      expect(r.ok).toBe(true);
      expect(r.why).toMatch(/^last successful cycle \d+(\.\d)? s ago$/);
      await s.stop();
    });
  }

  it('simulated clock (anchored on the wall clock): a backward step does not stop polling', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const clock = new VirtualClock(epochMs(Date.parse('2026-11-02T08:00:00Z')), 60, () => Date.now());
    const s = scheduled(clock, 60_000, 60);
    await vi.advanceTimersByTimeAsync(5_000);
    const before = s.count();
    vi.setSystemTime(Date.now() - HOUR);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.count() - before).toBe(10);
    await s.stop();
  });
});

describe('readiness', () => {
  const base = { phase: 'running' as const, lastError: null, nowMono: 100_000, maxAgeMs: 180_000 };
  it('fails when the last successful cycle is older than the policy multiple of the interval', () => {
    expect(readiness({ ...base, lastSuccessMono: 100_000 - 181_000, lastError: 'the cycle overran its deadline of 60 s' })).toEqual({ ok: false, why: 'the last successful cycle was 181 s ago (limit 180 s); last cycle: the cycle overran its deadline of 60 s' });
  });
  it('one failed cycle after a recent success does not flip it', () => {
    expect(readiness({ ...base, lastSuccessMono: 40_000, lastError: 'observe: throttled' }).ok).toBe(true);
  });
  it('fails before the first successful cycle and outside running', () => {
    expect(readiness({ ...base, lastSuccessMono: null }).why).toBe('no poll cycle has succeeded yet');
    expect(readiness({ ...base, phase: 'draining', lastSuccessMono: 99_000 })).toEqual({ ok: false, why: 'the daemon is draining' });
  });
});
