import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildWorld, openStore } from '../../src/compose.js';
import { ManualClock } from '../../src/core/clock.js';
import { killSwitchCheck, KillSwitchEnvError, parseKillSwitchEnv } from '../../src/execute/kill-switch.js';
import { Watcher } from '../../src/pipeline/watcher.js';
import { DEMO_T0, demoFiles, seedCheckoutIncident, type FastWorld } from '../helpers/fast-world.js';

const signal = (): AbortSignal => AbortSignal.timeout(1_000);

describe('the kill switch: policy flag, environment override, SSM parameter (issue 12 item 4)', () => {
  it('CLOUDOPS_KILL_SWITCH: unset, empty and off are off; on is on; anything else is refused with the variable named', () => {
    for (const v of [undefined, '', ' off ', 'OFF', 'false', '0']) expect(parseKillSwitchEnv(v)).toBe(false);
    for (const v of ['on', 'ON', 'true', '1']) expect(parseKillSwitchEnv(v)).toBe(true);
    expect(() => parseKillSwitchEnv('yes please')).toThrow(KillSwitchEnvError);
    expect(() => parseKillSwitchEnv('yes please')).toThrow('CLOUDOPS_KILL_SWITCH="yes please" is not "on" or "off" (unset = off; on stops every execution)');
  });

  it('any one source on stops execution; none can switch off another; the parameter is not read when the switch is already on', async () => {
    let reads = 0;
    const param = (on: boolean) => async () => {
      reads++;
      return on;
    };
    expect(await killSwitchCheck({ policyFlag: false, envOverride: false, parameter: null })(signal())).toBe(false);
    expect(await killSwitchCheck({ policyFlag: false, envOverride: false, parameter: param(false) })(signal())).toBe(false);
    expect(await killSwitchCheck({ policyFlag: false, envOverride: false, parameter: param(true) })(signal())).toBe(true);
    expect(reads).toBe(2);
    expect(await killSwitchCheck({ policyFlag: true, envOverride: false, parameter: param(false) })(signal())).toBe(true);
    expect(await killSwitchCheck({ policyFlag: false, envOverride: true, parameter: param(false) })(signal())).toBe(true);
    expect(reads).toBe(2);
  });

  function world(killSwitchEnv: string | undefined) {
    const files = demoFiles();
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-kill-'));
    const store = openStore(files.policy, join(dir, 'cloudops.db'));
    return buildWorld(files.policy, { store, logger: pino({ level: 'silent' }), notifiers: () => [], publicUrl: 'http://127.0.0.1:0', dataDir: dir, clock: new ManualClock(DEMO_T0 + 10 * 60_000), killSwitchEnv });
  }

  it('the composition root refuses a bad value before anything starts', () => {
    expect(() => world('maybe')).toThrow(KillSwitchEnvError);
  });

  it('with the environment override on (policy flag off), an approved runbook is not executed and the denial is audited', async () => {
    const w = world('on');
    expect(await w.deps.killSwitch(signal())).toBe(true);
    expect(await world(undefined).deps.killSwitch(signal())).toBe(false);

    const watcher = new Watcher(w.deps);
    const seeded = await seedCheckoutIncident({ store: w.deps.store, clock: w.deps.clock } as unknown as FastWorld);
    await watcher.runCycle();
    const p = (await w.deps.store.getIncident(seeded.id))!;
    expect(p.reason).toMatch(/WARNING: the kill switch is on/);
    await watcher.decide({ incidentId: p.id, approver: 'alice', verdict: 'approve', runbookHash: p.runbook!.hash, channel: 'cli', identity: 'token:alice' });
    await watcher.queueIdle();
    await watcher.runCycle();
    await watcher.queueIdle();

    const after = (await w.deps.store.getIncident(p.id))!;
    expect(after.state).toBe('needs_human');
    expect(w.sim?.executeCalls()).toBe(0);
    const denied = (await w.deps.store.listAudit({ incidentId: p.id })).find((a) => a.kind === 'authorize.denied');
    expect(denied?.data['reason']).toBe('kill_switch');
    await watcher.drain();
    w.release();
  });
});
