import { z } from 'zod';
import { defineAction } from './action.js';

const schema = z.strictObject({
  /** What the person does, in plain words. */
  instruction: z.string().min(1).max(1000),
});
type P = z.output<typeof schema>;

/**
 * manual: a step a person performs. The runner never calls the cloud for it: it hands the incident to a
 * person with the instruction, and the person marks it done on the page or the CLI.
 */
export const manual = defineAction<P>({
  name: 'manual',
  description: 'a step a person performs and marks done',
  risk: 'low',
  schema,
  iam: { read: [], write: [], resource: '*' },
  manual: true,
  resources: () => [],
  describe: (p) => `a person: ${p.instruction}`,
  preview: async (ctx) => ({ summary: `a person: ${ctx.params.instruction}`, changes: [], resources: [], source: 'parameters', cost: { kind: 'unknown', why: 'a person acts' } }),
  preconditions: async () => ({ ok: true }),
  execute: async (ctx) => ({ ok: false, summary: `manual step, for a person: ${ctx.params.instruction}` }),
  check: async () => 'unknown',
  verify: async () => ({ ok: true, detail: 'a person marked it done' }),
  sim: (_world, p) => ({ ok: false, summary: `manual step, for a person: ${p.instruction}` }),
});
