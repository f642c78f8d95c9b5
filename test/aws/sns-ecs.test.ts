import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochMs } from '../../src/core/time.js';
import { motoUrl, portsAt, resetMoto, signal } from './helpers.js';

describe('SnsNotifier and ECS actions against moto', () => {
  let server: Server;
  const received: Record<string, unknown>[] = [];
  let topicArn = '';

  beforeAll(async () => {
    await resetMoto();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ ...(JSON.parse(body) as Record<string, unknown>), path: req.url });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { sns } = portsAt(motoUrl()).clients;
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'cloudops-approvals' }))).TopicArn!;
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Two subscribers with filter policies on the attributes: only the matching one may receive.
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `${base}/proposals`, Attributes: { FilterPolicy: JSON.stringify({ kind: ['proposal'] }) } }));
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `${base}/finals`, Attributes: { FilterPolicy: JSON.stringify({ kind: ['final'] }) } }));
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it('publishes an ASCII subject under 100 characters, a body cut under 256 KB with the link, and attributes that subscription filters match', async () => {
    const { notifier } = portsAt(motoUrl(), { snsTopicArn: topicArn });
    received.length = 0;
    await notifier!.announce(
      { kind: 'proposal', incidentId: 'inc-42', title: `Café “checkout” latency — ${'x'.repeat(200)}`, text: 'é'.repeat(200_000), url: 'https://ops.example.invalid/incidents/inc-42', state: 'awaiting_approval' },
      signal(),
    );
    await expect.poll(() => received.filter((m) => m.Type === 'Notification').length, { timeout: 5_000 }).toBe(1);
    const n = received.find((m) => m.Type === 'Notification')!;
    const subject = n.Subject as string;
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.length).toBeLessThan(100);
    expect(subject.startsWith('Cafe "checkout" latency - ')).toBe(true);
    const message = n.Message as string;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(262_144);
    expect(message).toContain('https://ops.example.invalid/incidents/inc-42');
    // The `kind` attribute routed it through the subscription filter policies.
    expect(n.path).toBe('/proposals');
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((m) => m.path === '/finals')).toHaveLength(0);
  });

  it('scales an ECS service and then reports the step as done', async () => {
    const ports = portsAt(motoUrl());
    const { ecs } = ports.clients;
    await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'api', containerDefinitions: [{ name: 'api', image: 'api:1', memory: 512 }] }));
    await ecs.send(new CreateServiceCommand({ cluster: 'prod', serviceName: 'api', taskDefinition: 'api', desiredCount: 2 }));
    const call = { action: 'ecs.scaleService', params: { cluster: 'prod', service: 'api', desiredCount: 4 } };
    expect(await ports.actions.check(call, 'k', signal())).toBe('not_started');
    const r = await ports.actions.execute(call, 'k', signal());
    expect(r.summary).toContain('from 2 to 4');
    expect(await portsAt(motoUrl()).actions.check(call, 'k', signal())).toBe('done');
  });

  it('forces a new ECS deployment; a later process finds it from the cloud by the step\'s start time, and without one cannot tell', async () => {
    const ports = portsAt(motoUrl());
    const call = { action: 'ecs.forceNewDeployment', params: { cluster: 'prod', service: 'api' } };
    const startedAt = (Date.now() - 2_000) as EpochMs;
    expect((await ports.actions.execute(call, 'k3', signal())).ok).toBe(true);
    // Nothing is remembered in the process: a new target (a restarted daemon) reads the deployments.
    expect(['done', 'in_progress']).toContain(await portsAt(motoUrl()).actions.check(call, 'k3', signal(), { startedAt }));
    expect(await portsAt(motoUrl()).actions.check(call, 'k3', signal(), { startedAt: (Date.now() + 60_000) as EpochMs })).toBe('not_started');
    expect(await ports.actions.check(call, 'k3', signal())).toBe('unknown');
  });

  it('refuses an action it does not know', async () => {
    await expect(portsAt(motoUrl()).actions.execute({ action: 'rds.promote', params: {} }, 'k', signal())).rejects.toMatchObject({ name: 'PermanentError' });
  });
});
