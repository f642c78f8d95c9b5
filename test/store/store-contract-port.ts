import { afterEach, describe, expect, it } from 'vitest';
import { EmailLinkUses, type EmailLinkClaims } from '../../src/approval/email-link.js';
import { SpendBreaker, SPEND_KEY } from '../../src/agent/spend-breaker.js';
import type { EpochMs } from '../../src/core/time.js';
import { StoreAbortedError, StoreError, StepBudgetSpentError } from '../../src/store/errors.js';
import { nextVersion, type AuditInput, type Store } from '../../src/store/store.js';
import { updateValue } from '../../src/store/update-value.js';
import { incidentFor } from './store-contract.js';

/**
 * The port's newer promises, over every backend: compare-and-set on named values (also across two store
 * instances on one file or table), the step budget as a conditional counter, typed errors from a store
 * that cannot answer, and an AbortSignal that rejects at once and writes nothing.
 */
export interface PortHarness {
  readonly store: Store;
  /** Another store instance on the same data (a second task, or a second process on the file). */
  second(): Promise<Store>;
  /** A store on the same kind of backend that cannot answer (closed, or unreachable). */
  unavailable(): Promise<Store>;
  close(): Promise<void>;
}

const T = 1_800_000_000_000 as EpochMs; // 2027-01-15T08:00:00Z, the start of a clock hour
const at = (n: number): EpochMs => (T + n) as EpochMs;
const entry = (incidentId: string | null, kind: string, n = 0): AuditInput => ({ at: at(n), incidentId, kind, actor: 'test', data: { n } });
const claims = (jti: string): EmailLinkClaims => ({ v: 1, inc: 'inc-1', rh: 'sha256:x', ap: 'alice', exp: at(60_000), jti });

export function portContract(name: string, make: () => Promise<PortHarness>): void {
  describe(`Store port contract: ${name}`, () => {
    let open: { close(): Promise<void> }[] = [];
    const fresh = async (): Promise<PortHarness> => {
      const h = await make();
      open.push(h);
      return h;
    };
    const secondOf = async (h: PortHarness): Promise<Store> => {
      const s = await h.second();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const h of open.reverse()) await h.close();
      open = [];
    });

    it('compare-and-set writes only over the version it names, and a refusal returns what is stored', async () => {
      const { store } = await fresh();
      expect(await store.getValueVersioned('k')).toBeNull();
      expect(await store.compareAndSetValue('k', null, { a: 1 })).toEqual({ ok: true, version: 1 });
      expect(await store.compareAndSetValue('k', null, { a: 9 })).toEqual({ ok: false, current: { value: { a: 1 }, version: 1 } });
      expect(await store.compareAndSetValue('k', 1, { a: 2 })).toEqual({ ok: true, version: 2 });
      expect(await store.compareAndSetValue('k', 1, { a: 9 })).toEqual({ ok: false, current: { value: { a: 2 }, version: 2 } });
      await store.setValue('k', { a: 3 }); // a plain write moves the version too
      expect(await store.getValueVersioned('k')).toEqual({ value: { a: 3 }, version: 3 });
      await store.setValues({ k: { a: 4 }, other: 1 });
      expect(await store.getValueVersioned('k')).toEqual({ value: { a: 4 }, version: 4 });
      expect(await store.compareAndSetValue('k', 3, { a: 9 })).toMatchObject({ ok: false });
      expect(await store.compareAndSetValue('absent', 1, 'x')).toEqual({ ok: false, current: null });
      expect(await store.getValue('k')).toEqual({ a: 4 });
    });

    it('of concurrent compare-and-sets on one version, from two store instances, exactly one wins', async () => {
      const h = await fresh();
      const other = await secondOf(h);
      await h.store.setValue('k', 0);
      const v = (await h.store.getValueVersioned<number>('k'))?.version ?? -1;
      const results = await Promise.all([1, 2, 3, 4].map((n) => (n % 2 ? h.store : other).compareAndSetValue('k', v, n)));
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const stored = await other.getValueVersioned<number>('k');
      expect(stored?.version).toBe(v + 1);
      expect([1, 2, 3, 4][results.findIndex((r) => r.ok)]).toBe(stored?.value);
    });

    it('read-modify-write through compare-and-set loses no update from two instances writing at once', async () => {
      const h = await fresh();
      const other = await secondOf(h);
      await Promise.all(Array.from({ length: 12 }, (_, i) => updateValue<number>(i % 2 ? h.store : other, 'hits', (n) => (n ?? 0) + 1)));
      expect(await h.store.getValue('hits')).toBe(12);
    });

    it('an email link used on two store instances at once is accepted once; the other is told when it was used', async () => {
      const h = await fresh();
      const a = new EmailLinkUses(h.store);
      const b = new EmailLinkUses(await secondOf(h));
      const use = { at: at(5), incidentId: 'inc-1', approver: 'alice', verdict: 'approve' as const };
      const results = await Promise.allSettled([a.claim(claims('j1'), use), b.claim(claims('j1'), { ...use, at: at(6) })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' ? refused.reason : null).toMatchObject({ problem: 'used' });
      await expect(a.claim(claims('j1'), use)).rejects.toMatchObject({ problem: 'used', message: expect.stringMatching(/already used at 2027/) as unknown });
      await a.claim(claims('j2'), use); // another token is its own
      expect([at(5), at(6)]).toContain((await h.store.getValue<{ at: number }>(EmailLinkUses.key('j1')))?.at);
    });

    it('two spend breakers on one store (two tasks) book every dollar', async () => {
      const h = await fresh();
      const limits = { usdPerHour: 100, usdPerDay: 1000 };
      const a = new SpendBreaker(h.store, limits);
      const b = new SpendBreaker(await secondOf(h), limits);
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).record(at(i * 1000), 0.5)));
      expect((await a.state(at(20_000))).lastHourUsd).toBeCloseTo(5, 9);
      expect(Object.values((await h.store.getValue<Record<string, number>>(SPEND_KEY)) ?? {}).reduce((x, y) => x + y, 0)).toBeCloseTo(5, 9);
    });

    it('a step claim spends the hour budget in its own write; a spent budget refuses the claim and writes nothing', async () => {
      const { store } = await fresh();
      for (const id of ['a', 'b', 'c']) await store.createIncident(incidentFor(id), entry(id, 'incident.opened'));
      const claim = async (id: string, n: number, max: number) => {
        const inc = (await store.getIncident(id)) ?? incidentFor(id);
        await store.updateIncident(nextVersion(inc, at(n)), entry(id, 'step.started', n), undefined, { budget: { at: at(n), max } });
      };
      expect(await store.stepsInHour(T)).toBe(0);
      await claim('a', 1, 2);
      await claim('b', 2, 2);
      expect(await store.stepsInHour(at(59 * 60_000))).toBe(2);
      const before = await store.getIncident('c');
      const err = await claim('c', 3, 2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepBudgetSpentError);
      expect(err).toMatchObject({ kind: 'budget_spent', used: 2, max: 2, hourStart: T });
      expect((await store.getIncident('c'))?.version).toBe(before?.version ?? 1);
      expect((await store.listAudit({ incidentId: 'c' })).map((r) => r.kind)).toEqual(['incident.opened']);
      expect(await store.stepsInHour(T)).toBe(2);
      // The next clock hour has its own budget; a write without a budget spends none.
      await claim('c', 60 * 60_000, 2);
      expect(await store.stepsInHour(at(60 * 60_000))).toBe(1);
      const a = (await store.getIncident('a')) ?? incidentFor('a');
      await store.updateIncident(nextVersion(a, at(61 * 60_000)), entry('a', 'step.finished', 61 * 60_000));
      expect(await store.stepsInHour(at(61 * 60_000))).toBe(1);
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
    });

    // Sequential on purpose: moto does not isolate simultaneous TransactWriteItems as DynamoDB does, and
    // the refusal is the condition DynamoDB (or SQLite's write lock) evaluates inside the one write.
    it('two instances share one budget: once one spent it, the claims of both are refused', async () => {
      const h = await fresh();
      const other = await secondOf(h);
      for (const id of ['x', 'y', 'z']) await h.store.createIncident(incidentFor(id), entry(id, 'incident.opened'));
      const claim = (s: Store, id: string) => s.updateIncident(nextVersion(incidentFor(id), at(10)), entry(id, 'step.started', 10), undefined, { budget: { at: at(10), max: 2 } });
      await claim(h.store, 'x');
      await claim(other, 'y');
      await expect(claim(h.store, 'z')).rejects.toBeInstanceOf(StepBudgetSpentError);
      await expect(claim(other, 'z')).rejects.toBeInstanceOf(StepBudgetSpentError);
      expect(await other.stepsInHour(at(10))).toBe(2);
      expect((await h.store.getIncident('z'))?.version).toBe(1);
    });

    it('a store that cannot answer fails every method with a typed StoreError, never a driver error', async () => {
      const h = await fresh();
      const down = await h.unavailable();
      const inc = incidentFor('d');
      const calls: [string, () => Promise<unknown>][] = [
        ['createIncident', () => down.createIncident(inc, entry('d', 'incident.opened'))],
        ['getIncident', () => down.getIncident('d')],
        ['listIncidents', () => down.listIncidents({ states: ['detected'] })],
        ['countIncidentsByState', () => down.countIncidentsByState()],
        ['updateIncident', () => down.updateIncident(nextVersion(inc, T), entry('d', 'x'))],
        ['appendAudit', () => down.appendAudit(entry('d', 'x'))],
        ['listAudit', () => down.listAudit({ incidentId: 'd' })],
        ['verifyAudit', () => down.verifyAudit()],
        ['stepsInHour', () => down.stepsInHour(T)],
        ['getValue', () => down.getValue('k')],
        ['getValueVersioned', () => down.getValueVersioned('k')],
        ['compareAndSetValue', () => down.compareAndSetValue('k', null, 1)],
        ['setValue', () => down.setValue('k', 1)],
        ['setValues', () => down.setValues({ k: 1 })],
        ['getValues', () => down.getValues(['k'])],
        ['listSilences', () => down.listSilences()],
        ['readLease', () => down.readLease('leader')],
        ['acquireLease', () => down.acquireLease('leader', 'me', T, 1000)],
      ];
      for (const [method, call] of calls) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, method).toBeInstanceOf(StoreError);
        expect(err, method).toMatchObject({ kind: 'unavailable' });
      }
    });

    it('an aborted signal rejects every method at once with StoreAbortedError and writes nothing', async () => {
      const { store } = await fresh();
      const ac = new AbortController();
      ac.abort(new Error('stage deadline'));
      const opts = { signal: ac.signal };
      const inc = incidentFor('ab');
      const calls: [string, () => Promise<unknown>][] = [
        ['createIncident', () => store.createIncident(inc, entry('ab', 'incident.opened'), opts)],
        ['getIncident', () => store.getIncident('ab', opts)],
        ['listIncidents', () => store.listIncidents({}, opts)],
        ['updateIncident', () => store.updateIncident(nextVersion(inc, T), entry('ab', 'x'), undefined, { ...opts, budget: { at: T, max: 5 } })],
        ['appendAudit', () => store.appendAudit(entry('ab', 'x'), opts)],
        ['compareAndSetValue', () => store.compareAndSetValue('k', null, 1, opts)],
        ['setValue', () => store.setValue('k', 1, opts)],
        ['setValues', () => store.setValues({ k: 1 }, opts)],
        ['addDecision', () => store.addDecision({ incidentId: 'ab', approver: 'a', verdict: 'approve', runbookHash: 'h', at: T, channel: 'web', identity: 'token:a' }, entry('ab', 'd'), opts)],
        ['acquireLease', () => store.acquireLease('leader', 'me', T, 1000, ac.signal)],
      ];
      const started = Date.now();
      for (const [method, call] of calls) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, method).toBeInstanceOf(StoreAbortedError);
        expect((err as Error).message, method).toMatch(/aborted: stage deadline/);
      }
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await store.getIncident('ab')).toBeNull();
      expect(await store.getValue('k')).toBeNull();
      expect(await store.listAudit()).toEqual([]);
      expect(await store.stepsInHour(T)).toBe(0);
      expect(await store.readLease('leader')).toBeNull();
    });

    it('lists incidents opened after a time, and counts incidents by state without listing them', async () => {
      const { store } = await fresh();
      for (const [id, t, state] of [['a', 1, 'detected'], ['b', 2, 'resolved'], ['c', 3, 'detected'], ['d', 4, 'withdrawn']] as const) {
        const inc = incidentFor(id, 'checkout', at(t * 1000));
        await store.createIncident(inc, entry(id, 'incident.opened', t));
        if (state !== 'detected') await store.updateIncident({ ...nextVersion(inc, at(t * 1000)), state }, entry(id, 'incident.transition', t));
      }
      expect((await store.listIncidents({ openedAfter: at(2000) })).map((i) => i.id)).toEqual(['d', 'c', 'b']);
      expect((await store.listIncidents({ states: ['detected', 'resolved'], openedAfter: at(2000) })).map((i) => i.id)).toEqual(['c', 'b']);
      expect(await store.countIncidentsByState()).toEqual({ detected: 2, resolved: 1, withdrawn: 1 });
      expect(await store.countIncidentsByState({ states: ['detected', 'withdrawn', 'approved'] })).toEqual({ detected: 2, withdrawn: 1 });
      expect(await store.countIncidentsByState({ states: [] })).toEqual({});
    });
  });
}
