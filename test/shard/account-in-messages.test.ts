import { describe, expect, it } from 'vitest';
import { renderSlackMessage } from '../../src/approval/channels/slack-blocks.js';
import { emailText } from '../../src/approval/email-notifier.js';
import { addMs } from '../../src/core/time.js';
import type { Incident } from '../../src/incident/incident.js';
import { incidentPlace } from '../../src/incident/incident.js';
import { newIncident } from '../../src/pipeline/open-incidents.js';
import { shardStore } from '../../src/pipeline/shard-store.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { DEMO_T0, demoFiles } from '../helpers/fast-world.js';

const files = demoFiles((doc) => {
  doc.accounts = [
    { name: 'shop', id: '111111111111', regions: ['eu-west-1', 'us-east-1'], services: ['payments'] },
    { name: 'pay', id: '222222222222', regions: ['eu-west-1'], services: ['checkout'] },
  ];
});
const home = files.policy.doc.account;
const at = addMs(DEMO_T0, 5 * 60_000);
const opened = (id: string, service: string): Incident => newIncident(id, service, [{ metricId: 'm', metricName: 'M', direction: 'up', startedAt: at, lastAnomalousAt: at, clearedAt: null, peakScore: 5, peakValue: 9, expected: 1 }], at);
const audit = (id: string) => ({ at, incidentId: id, kind: 'incident.opened', actor: 'test', data: {} });

describe('every incident names its account and region (issue 16 item 5)', () => {
  it('a shard stamps its account and region on what it stores and lists only its own; an older record reads as the policy account', async () => {
    const store = new SqliteStore(':memory:');
    const [shopEu, shopUs, pay] = files.policy.shards as [never, never, never];
    await shardStore(store, pay, home).createIncident(opened('checkout-1', 'checkout'), audit('checkout-1'));
    await shardStore(store, shopEu, home).createIncident(opened('payments-1', 'payments'), audit('payments-1'));
    await store.createIncident(opened('legacy-1', 'checkout'), audit('legacy-1'));
    expect(await store.getIncident('checkout-1')).toMatchObject({ account: 'pay', region: 'eu-west-1' });
    expect((await shardStore(store, pay, home).listIncidents({})).map((i) => i.id)).toEqual(['checkout-1']);
    expect((await shardStore(store, shopUs, home).listIncidents({})).map((i) => i.id)).toEqual([]);
    const legacy = await store.getIncident('legacy-1');
    expect(legacy?.account).toBeUndefined();
    expect(incidentPlace(legacy as Incident, home)).toEqual({ account: home.name, region: home.region });
    // Pipeline state of one shard is not another's: the same key in two regions of one account.
    await shardStore(store, shopEu, home).setValues({ 'detector:paymentsCpu': 1, 'cooldown:x': 5 });
    expect(await shardStore(store, shopUs, home).getValue('detector:paymentsCpu')).toBeNull();
    expect(await shardStore(store, shopEu, home).getValue('detector:paymentsCpu')).toBe(1);
    expect([...(await shardStore(store, shopEu, home).getValues(['detector:paymentsCpu']))]).toEqual([['detector:paymentsCpu', 1]]);
    expect(await store.getValue('cooldown:x')).toBe(5); // resource cooldowns stay shared across shards
    await store.close();
  });

  it('Slack and email name the account and region; an incident without them reads as before', () => {
    const inc: Incident = { ...opened('checkout-1', 'checkout'), account: 'pay', region: 'eu-west-1' };
    const a = { kind: 'proposal' as const, incidentId: inc.id, title: 'checkout 5xx', text: 'Approval needed', url: 'http://x/incidents/checkout-1', state: inc.state };
    expect(emailText(a, inc, null)).toContain('service checkout · account pay · region eu-west-1 · state detected');
    expect(emailText(a, opened('c-2', 'checkout'), null)).toContain('service checkout · state detected');
    expect(JSON.stringify(renderSlackMessage({ incident: inc, decisions: [], quorum: null, eligible: [], url: a.url, now: at }))).toContain('*Account* pay · *Region* eu-west-1');
  });

  it('compiles the same shards the policy test expects (guard against drift of the fixtures above)', () => {
    expect(compilePolicy(files.policy.doc, 'config/demo.yaml').shards.map((s) => s.key)).toEqual(['shop/eu-west-1', 'shop/us-east-1', 'pay/eu-west-1']);
  });
});
