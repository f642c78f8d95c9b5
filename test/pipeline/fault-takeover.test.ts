import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EXPIRY_MARGIN_MS, LeaderElector } from '../../src/pipeline/leader.js';
import { demoFiles, fastWorld } from '../helpers/fast-world.js';

const TTL = 30_000;
const silent = pino({ level: 'silent' });

describe('a paused leader is taken over within the TTL of its last renewal', () => {
  it('the follower tries again just after the holder\'s expiry, not up to a renewal interval later', async () => {
    // Prepare: a leads; b saw it hold the lease.
    const w = fastWorld(demoFiles());
    const a = new LeaderElector({ store: w.store, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent });
    const b = new LeaderElector({ store: w.store, owner: 'b', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent });
    await a.renew();
    w.clock.advance(TTL - 1_000);
    await b.renew();

    // Act: the next attempt is due at a's expiry (1 s away), well inside the renewal interval (10 s).
    const wait = b.nextAttemptInMs();
    expect(wait).toBe(1_000 + EXPIRY_MARGIN_MS);
    w.clock.advance(wait);

    // Assess: a never renewed (paused): b leads at TTL + margin after a's last renewal.
    expect((await b.renew()).role).toBe('leader');
    expect(b.fence().token).toBe(2);
  });

  it('a leader, and a follower that knows no holder, keep the renewal interval', async () => {
    const w = fastWorld(demoFiles());
    const a = new LeaderElector({ store: w.store, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent });
    expect(a.nextAttemptInMs()).toBe(a.renewEveryMs);
    await a.renew();
    expect(a.nextAttemptInMs()).toBe(a.renewEveryMs);
  });

  it('a follower far from the expiry waits at most the renewal interval (the holder may give the lease up sooner)', async () => {
    const w = fastWorld(demoFiles());
    const a = new LeaderElector({ store: w.store, owner: 'a', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent });
    const b = new LeaderElector({ store: w.store, owner: 'b', ttlMs: TTL, clock: w.clock, monotonic: w.clock.monotonic, logger: silent });
    await a.renew();
    await b.renew();
    expect(b.nextAttemptInMs()).toBe(b.renewEveryMs);
  });
});
