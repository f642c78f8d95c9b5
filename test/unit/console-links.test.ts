import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { consoleLinksFor } from '../../src/server/console-links.js';
import { incidentFor } from '../store/store-contract.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('console links for an incident', () => {
  it('links the suspect execution, the main metric and the service logs on AWS, and nothing on the simulated cloud', () => {
    const loaded = loadPolicyFile(resolve(ROOT, 'config', 'demo.yaml')).policy;
    const sim = compilePolicy(loaded, resolve(ROOT, 'config', 'demo.yaml'));
    const metric = sim.metrics[0]!;
    const inc = { ...incidentFor('inc-l', metric.service), chart: { metricId: metric.id, metricName: metric.metricName, points: [], deployments: [] } };
    inc.correlation = { suspect: { deployment: { id: 'exec-1', pipeline: 'checkout-deploy', status: 'Succeeded', startedAt: inc.onsetAt }, score: 1, reasons: [] }, verdict: '', candidates: [] } as never;
    expect(consoleLinksFor(sim, inc)).toEqual({});
    const aws = { ...sim, doc: { ...sim.doc, cloud: { kind: 'aws' } } } as unknown as typeof sim;
    const links = consoleLinksFor(aws, inc);
    expect(links.pipelineExecution).toMatch(/^https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/codesuite\/codepipeline\/pipelines\/checkout-deploy\/executions\/exec-1\//);
    expect(links.metric).toMatch(/^https:\/\/.*cloudwatch/);
    expect(sim.doc.services[metric.service]?.logGroups.length).toBeGreaterThan(0);
    expect(links.logs).toMatch(/logs-insights|logsV2/);
  });
});
